// Customers of the local stack: as an API client (sign-up through the Cognito API, the code from the
// outbox, sign-in, tokens made by hand to prove what the authorizers refuse), and as a browser
// without JavaScript would be (a cookie jar, pages fetched, forms posted with their CSRF token).
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
  const cognito = cognitoOf(stack);
  await cognito.send(new SignUpCommand({ ClientId: stack.userPool.clientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: name }] }));
  await cognito.send(new ConfirmSignUpCommand({ ClientId: stack.userPool.clientId, Username: email, ConfirmationCode: await codeMailedTo(stack, email) }));
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

export const PASSWORD = 'Corner-shop-1';

/** The CSRF token of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('the page has no form with a CSRF token');
  return match[1];
}

export class WebClient {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page fetched that had a form. */
  csrf: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly headers: Record<string, string> = {},
  ) {}

  private remember(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute) || /^\s*max-age=0\b/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      redirect: 'manual',
      ...init,
      headers: { accept: 'text/html', ...this.headers, ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}), ...(init.headers as Record<string, string> | undefined) },
    });
    this.remember(response);
    return response;
  }

  /** A page, its HTML read and its CSRF token kept. */
  async get(path: string): Promise<{ response: Response; html: string }> {
    const response = await this.request(path);
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { response, html };
  }

  /** Posts a form, with the CSRF token of the last page unless `_csrf` is given (null: none at all). */
  async post(path: string, fields: Record<string, string>, { csrf }: { csrf?: string | null } = {}): Promise<Response> {
    const token = csrf === null ? undefined : (csrf ?? this.csrf);
    const body = new URLSearchParams({ ...fields, ...(token ? { _csrf: token } : {}) }).toString();
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  }

  /** Signs in through the sign-in page; throws unless it redirects (303). */
  async signIn(email: string, password = PASSWORD): Promise<void> {
    await this.get('/sign-in');
    const response = await this.post('/sign-in', { email, password });
    if (response.status !== 303) throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
    await this.get('/');
  }

  async signOut(): Promise<void> {
    await this.get('/');
    const response = await this.post('/sign-out', {});
    if (response.status !== 303) throw new Error(`sign-out answered ${response.status}`);
  }

  /** Sets a line's quantity, as the menu's form does. */
  async putInCart(productId: string, quantity: number): Promise<Response> {
    if (!this.csrf) await this.get('/');
    return this.post('/cart/lines', { product_id: productId, quantity: String(quantity) });
  }

  /** Checks out the cart as shown on the cart page; the order id from the redirect. */
  async checkout(): Promise<string> {
    const { html } = await this.get('/cart');
    const version = /name="cart_version" value="(\d+)"/.exec(html)?.[1];
    if (version === undefined) throw new Error('the cart page has no checkout form');
    const response = await this.post('/checkout', { cart_version: version });
    const location = response.headers.get('location') ?? '';
    const id = /^\/orders\/([0-9a-f-]{36})\?/.exec(location)?.[1];
    if (response.status !== 303 || !id) throw new Error(`checkout answered ${response.status} ${location}`);
    return id;
  }
}

/** The code of the newest Cognito mail to `email` (confirmation or password reset). */
export async function codeMailedTo(stack: LocalStack, email: string, deadlineMs = 5000): Promise<string> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const mails = (await readOutbox(stack)).filter((mail) => mail.headers.get('x-cognito-code') !== undefined && JSON.stringify(mail.to).includes(email));
    const code = mails.at(-1)?.headers.get('x-cognito-code');
    if (typeof code === 'string') return code;
    if (Date.now() > until) throw new Error(`no code was mailed to ${email}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A new, confirmed account made through the sign-up and confirmation pages; a client signed in as it. */
export async function signedInCustomer(stack: LocalStack, { name = 'Test Customer', headers = {} }: { name?: string; headers?: Record<string, string> } = {}): Promise<{ client: WebClient; email: string }> {
  const email = `c-${randomUUID()}@example.com`;
  const client = new WebClient(stack.urls.web, headers);
  await client.get('/sign-up');
  const signUp = await client.post('/sign-up', { email, name, password: PASSWORD });
  if (signUp.status !== 303) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
  await client.get(`/confirm?email=${encodeURIComponent(email)}`);
  const confirm = await client.post('/confirm', { email, code: await codeMailedTo(stack, email), password: PASSWORD });
  if (confirm.status !== 303) throw new Error(`confirm answered ${confirm.status}: ${await confirm.text()}`);
  await client.signIn(email);
  return { client, email };
}
