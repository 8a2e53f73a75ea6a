// Many signed-in customers, cheaply: ID tokens signed with cognito-local's own key (the one its JWKS
// serves, so the web tier and the API's authorizer take them like any other), carts written straight
// to the carts table as the cart Lambda writes them, and what each browser would hold after opening
// its cart page (session and CSRF cookies, the checkout form). No sign-in through cognito-local per
// customer. Used by the reliability tests and by the bench (bench/run.ts, bench/stack-process.ts).
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { CartStore } from '../../backend-lambdas/lib/cart-store.js';
import { emptyCart, setCartLine } from '../../domain/cart.js';
import { settings } from '../../platform/settings.js';

/** What an ID token names its pool and app client by (frontend/id-token.ts's UserPoolRef, less the pool id). */
export interface TokenPool {
  clientId: string;
  issuer: string;
}

const require = createRequire(import.meta.url);
const keyFile = (name: 'private' | 'public') => (JSON.parse(readFileSync(require.resolve(`cognito-local/lib/keys/cognitoLocal.${name}.json`), 'utf8')) as { jwk: Record<string, string> }).jwk;
let poolKey: KeyObject | undefined;

/** cognito-local's JWKS, as it serves it at `<issuer>/.well-known/jwks.json`: for a fake pool in front of a web tier. */
export function cognitoLocalJwks(): { keys: Record<string, string>[] } {
  return { keys: [keyFile('public')] };
}

/** An RS256 JWT over `claims`, signed with cognito-local's key (kid CognitoLocal). */
export function signWithPoolKey(claims: Record<string, unknown>): string {
  poolKey ??= createPrivateKey({ key: keyFile('private'), format: 'jwk' });
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' })}.${part(claims)}`;
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), poolKey).toString('base64url')}`;
}

/** A valid ID token of the pool for customer `sub`, for an hour. */
export function poolIdToken(pool: TokenPool, sub: string, { email = `${sub}@example.com`, ttlSeconds = 3600 }: { email?: string; ttlSeconds?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signWithPoolKey({ sub, email, token_use: 'id', aud: pool.clientId, iss: pool.issuer, iat: now, exp: now + ttlSeconds });
}

/** The session cookie of a customer signed in with `idToken` (frontend/session.ts's COOKIES.idToken). */
export const sessionCookie = (idToken: string) => `shop_session=${idToken}`;

/** What a bench or test cart holds unless told otherwise: three different products. */
export const THREE_LINES = [['Margherita', 2], ['Tiramisu', 1], ['Espresso', 3]] as const;

type Lines = readonly (readonly [productId: string, quantity: number])[];

/** Carts of `lines` (the same for all, or each customer's by its index) for each customer id, written as the cart Lambda writes them; 50 at a time. */
export async function writeCarts(carts: CartStore, customerIds: readonly string[], lines: Lines | ((index: number) => Lines) = THREE_LINES): Promise<void> {
  const now = new Date();
  const ttlSeconds = settings.cart.ttlSeconds;
  for (let start = 0; start < customerIds.length; start += 50) {
    await Promise.all(
      customerIds.slice(start, start + 50).map(async (id, offset) => {
        let cart = emptyCart(id, now, ttlSeconds);
        for (const [product, quantity] of typeof lines === 'function' ? lines(start + offset) : lines) cart = setCartLine(cart, product, quantity, { now, ttlSeconds });
        if (!(await carts.put(cart))) throw new Error(`the cart of ${id} was written already`);
      }),
    );
  }
}

/** A signed-in customer as a browser holds them after opening the cart page. */
export interface PreparedCustomer {
  id: string;
  /** Session and CSRF cookies, as one Cookie header. */
  cookie: string;
  /** The CSRF token of this session's forms. */
  csrf: string;
  /** The checkout form as the cart page has it (its CSRF token and cart_version), urlencoded. */
  checkoutBody: string;
}

/**
 * Opens the cart page of each customer (pool-signed ID token as the session cookie), `concurrency`
 * at a time, and keeps what its browser would: cookies, CSRF token, checkout form. Their carts
 * should be written first (writeCarts); an empty cart has no checkout form and throws.
 */
export async function prepareCustomers(webUrl: string, pool: TokenPool, customerIds: readonly string[], { concurrency = 50, headers = {} }: { concurrency?: number; headers?: Record<string, string> } = {}): Promise<PreparedCustomer[]> {
  const prepared = new Array<PreparedCustomer>(customerIds.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, customerIds.length) }, async () => {
      for (let i = next++; i < customerIds.length; i = next++) {
        const id = customerIds[i]!;
        const session = sessionCookie(poolIdToken(pool, id));
        const response = await fetch(`${webUrl}/cart`, { headers: { ...headers, cookie: session, accept: 'text/html' } });
        const html = await response.text();
        const csrfCookie = response.headers.getSetCookie().find((line) => line.startsWith('shop_csrf='))?.split(';')[0];
        const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
        const version = /name="cart_version" value="(\d+)"/.exec(html)?.[1];
        if (response.status !== 200 || !csrfCookie || !csrf || version === undefined) throw new Error(`the cart page of ${id} answered ${response.status} without a checkout form`);
        prepared[i] = { id, cookie: `${session}; ${csrfCookie}`, csrf, checkoutBody: new URLSearchParams({ _csrf: csrf, cart_version: version }).toString() };
      }
    }),
  );
  return prepared;
}
