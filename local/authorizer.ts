import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { LocalUserPool } from './cognito.js';

/** What a route's authorizer gives the function: the token's claims, as strings, or undefined for a 401. */
export type Authorizer = (authorization: string | undefined) => Promise<Record<string, string> | undefined>;

/**
 * API Gateway's Cognito user pool authorizer: the `Authorization` header must be an ID token of
 * the pool, for the web tier's app client, signed by the pool's key and not expired. Its claims
 * reach the function as `requestContext.authorizer.claims`, each a string, as API Gateway passes them.
 */
export async function createCognitoAuthorizer(pool: LocalUserPool): Promise<Authorizer> {
  const jwksUri = `${pool.issuer}/.well-known/jwks.json`;
  const verifier = JwtVerifier.create({
    issuer: pool.issuer,
    audience: pool.clientId,
    jwksUri,
    customJwtCheck: ({ payload }) => {
      if (payload.token_use !== 'id') throw new Error('Not an ID token');
    },
  });
  // aws-jwt-verify fetches JWKS over https only; cognito-local serves it over http, so it is read once here.
  const response = await fetch(jwksUri);
  if (!response.ok) throw new Error(`The user pool's JWKS is not served at ${jwksUri} (${response.status})`);
  verifier.cacheJwks((await response.json()) as Jwks);

  return async (authorization) => {
    if (!authorization) return undefined;
    let payload: JwtPayload;
    try {
      payload = await verifier.verify(authorization);
    } catch {
      return undefined;
    }
    return Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]));
  };
}
