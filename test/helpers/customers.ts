// Customers of the local stack's user pool, made the way a person would (sign-up, the code from the
// outbox, sign-in), and tokens made by hand to prove what the authorizers refuse.
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LocalStack } from '../../local/stack.js';
import { readOutbox } from './local-stack.js';
import { waitFor } from './wait.js';

export interface SignedInCustomer {
  email: string;
  password: string;
  /** The account's sub: its customer id. */
  id: string;
  idToken: string;
  accessToken: string;
}

const cognitoClients = new WeakMap<LocalStack, CognitoIdentityProviderClient>();

export function cognitoOf(stack: LocalStack): CognitoIdentityProviderClient {
  let client = cognitoClients.get(stack);
  if (!client) {
    client = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: stack.urls.cognito, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    cognitoClients.set(stack, client);
  }
  return client;
}

/** The newest code Cognito mailed to `email`, read from the outbox. */
export async function mailedCode(stack: LocalStack, email: string, after: Date): Promise<string> {
  return waitFor(async () => {
    const mails = (await readOutbox(stack)).filter((mail) => mail.headers.has('x-cognito-code') && JSON.stringify(mail.to ?? '').includes(email) && (mail.date ?? new Date(0)) >= new Date(after.getTime() - 1000));
    return mails.at(-1)?.headers.get('x-cognito-code') as string | undefined;
  }, { what: `the code mailed to ${email}` });
}

export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export async function signIn(stack: LocalStack, email: string, password: string): Promise<{ idToken: string; accessToken: string }> {
  const { AuthenticationResult } = await cognitoOf(stack).send(
    new InitiateAuthCommand({ ClientId: stack.userPool.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }),
  );
  return { idToken: AuthenticationResult!.IdToken!, accessToken: AuthenticationResult!.AccessToken! };
}

/** A new account, signed up, confirmed with the code from the outbox and signed in. */
export async function newCustomer(stack: LocalStack, name = 'Ada Customer'): Promise<SignedInCustomer> {
  const email = `c-${randomUUID().slice(0, 8)}@example.com`;
  const password = `Pw-${randomUUID().slice(0, 8)}A1`;
  const started = new Date();
  const cognito = cognitoOf(stack);
  await cognito.send(new SignUpCommand({ ClientId: stack.userPool.clientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: name }] }));
  await cognito.send(new ConfirmSignUpCommand({ ClientId: stack.userPool.clientId, Username: email, ConfirmationCode: await mailedCode(stack, email, started) }));
  const tokens = await signIn(stack, email, password);
  return { email, password, id: claimsOf(tokens.idToken).sub as string, ...tokens };
}

// cognito-local signs every token with one fixed key; it ships it, so a test can sign what it would.
const require = createRequire(import.meta.url);
const cognitoLocalKey = createPrivateKey({
  key: (JSON.parse(readFileSync(require.resolve('cognito-local/lib/keys/cognitoLocal.private.json'), 'utf8')) as { jwk: Record<string, string> }).jwk,
  format: 'jwk',
});
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

/**
 * An RS256 JWT with cognito-local's key id. `key: 'pool'` signs with the pool's own key (to make an
 * expired or otherwise wrong token that is genuinely signed); `'stranger'` with another key (a forgery).
 */
export function handMadeToken(claims: Record<string, unknown>, key: 'pool' | 'stranger'): string {
  const privateKey: KeyObject = key === 'pool' ? cognitoLocalKey : strangerKey;
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' })}.${part(claims)}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`;
}
