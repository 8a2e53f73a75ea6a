import { createHmac } from 'node:crypto';
import { createAccounts } from './accounts.js';
import { cognitoIssuer, type WebConfig } from './config.js';
import { createIdTokenVerifier } from './id-token.js';
import { createOrderApi } from './order-api.js';

/** What createApp needs besides its config, built from the validated config and the API key. */
export function createWebDeps(config: WebConfig, apiKey: string) {
  const pool = { userPoolId: config.COGNITO_USER_POOL_ID, clientId: config.COGNITO_CLIENT_ID, issuer: cognitoIssuer(config) };
  // A pool id begins with its region; the SDK needs one even for the unsigned calls.
  const region = config.AWS_REGION ?? config.COGNITO_USER_POOL_ID.split('_')[0] ?? 'us-east-1';
  return {
    api: createOrderApi({ baseUrl: config.API_BASE_URL, apiKey, timeoutMs: config.API_TIMEOUT_MS }),
    accounts: createAccounts({ clientId: pool.clientId, region, endpoint: config.COGNITO_ENDPOINT }),
    // An endpoint of its own is cognito-local (npm start), whose JWKS is served over http.
    verifyIdToken: createIdTokenVerifier(pool, { local: config.COGNITO_ENDPOINT !== undefined }),
    // Every instance has the API key already; a secret derived from it is the same on all of them.
    sessionSecret: config.CSRF_SECRET ?? createHmac('sha256', apiKey).update('web-tier csrf').digest('base64url'),
  };
}
