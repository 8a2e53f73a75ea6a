import { createIdTokenVerifier } from '../frontend/id-token.js';
import type { LocalUserPool } from './cognito.js';

async function fetchJwks(issuer: string): Promise<void> {
  const response = await fetch(`${issuer}/.well-known/jwks.json`);
  if (!response.ok) throw new Error(`The user pool's JWKS is not served at ${issuer}/.well-known/jwks.json (${response.status})`);
  await response.body?.cancel();
}

/** What a route's authorizer gives the function: the token's claims, as strings, or undefined for a 401. */
export type Authorizer = (authorization: string | undefined) => Promise<Record<string, string> | undefined>;

/**
 * API Gateway's Cognito user pool authorizer: the `Authorization` header must be an ID token of
 * the pool, for the web tier's app client, signed by the pool's key and not expired. Its claims
 * reach the function as `requestContext.authorizer.claims`, each a string, as API Gateway passes them.
 * The check is the web tier's own (frontend/id-token.ts), so the two cannot disagree.
 */
export async function createCognitoAuthorizer(pool: LocalUserPool): Promise<Authorizer> {
  const verify = createIdTokenVerifier(pool, { local: true });
  // A pool whose keys cannot be read is a stack that cannot start, not a 401 on every call later.
  await fetchJwks(pool.issuer);
  return async (authorization) => {
    if (!authorization) return undefined;
    const payload = await verify(authorization);
    if (!payload) return undefined;
    return Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]));
  };
}
