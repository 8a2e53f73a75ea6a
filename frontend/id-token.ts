import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

/** Where a user pool's ID tokens come from: the pool, the app client they are for, and their issuer. */
export interface UserPoolRef {
  userPoolId: string;
  clientId: string;
  /** The `iss` of its tokens; its JWKS is at `${issuer}/.well-known/jwks.json`. */
  issuer: string;
}

/** Checks an ID token: the claims of a valid one, undefined for anything else (forged, expired, another pool's). */
export type IdTokenVerifier = (token: string) => Promise<JwtPayload | undefined>;

/**
 * aws-jwt-verify for one pool and one app client, ID tokens only. On AWS (`local` false) it is
 * CognitoJwtVerifier, which fetches the pool's JWKS itself. cognito-local's pool ids are not the
 * shape CognitoJwtVerifier accepts and its JWKS is served over http, which aws-jwt-verify will not
 * fetch: there the generic JwtVerifier is given the JWKS, read once here (it is one fixed key).
 */
export function createIdTokenVerifier(pool: UserPoolRef, { local }: { local: boolean }): IdTokenVerifier {
  let verify: (token: string) => Promise<JwtPayload>;
  if (local) {
    const jwksUri = `${pool.issuer}/.well-known/jwks.json`;
    const verifier = JwtVerifier.create({
      issuer: pool.issuer,
      audience: pool.clientId,
      jwksUri,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'id') throw new Error('Not an ID token');
      },
    });
    // Read when first needed and again after a failure: the web tier starts even while the pool does not answer.
    let jwks: Promise<void> | undefined;
    const loadJwks = async () => {
      const response = await fetch(jwksUri);
      if (!response.ok) throw new Error(`The user pool's JWKS is not served at ${jwksUri} (${response.status})`);
      verifier.cacheJwks((await response.json()) as Jwks);
    };
    verify = async (token) => {
      jwks ??= loadJwks().catch((error: unknown) => {
        jwks = undefined;
        throw error;
      });
      await jwks;
      return verifier.verify(token);
    };
  } else {
    const verifier = CognitoJwtVerifier.create({ userPoolId: pool.userPoolId, clientId: pool.clientId, tokenUse: 'id' });
    verify = (token) => verifier.verify(token);
  }
  return async (token) => {
    try {
      return await verify(token);
    } catch {
      return undefined;
    }
  };
}
