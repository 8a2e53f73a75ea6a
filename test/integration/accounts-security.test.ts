import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { LocalStack } from '../../local/stack.js';
import { apiRequest, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { COOKIES } from '../../frontend/session.js';
import { newCustomer, signedInCustomer, WebClient, PASSWORD } from '../helpers/customers.js';
import { acceptOrder, storedOrder } from '../../domain/order.js';
import { applyChange, transition } from '../../domain/lifecycle.js';
import { startWeb } from '../helpers/web.js';
import { waitFor } from '../helpers/wait.js';

let stack: LocalStack;
let cognitoKey: KeyObject;
beforeAll(async () => {
  stack = await startTestStack();
  const file = createRequire(import.meta.url).resolve('cognito-local/lib/keys/cognitoLocal.private.json');
  cognitoKey = createPrivateKey({ key: (JSON.parse(await readFile(file, 'utf8')) as { jwk: object }).jwk as never, format: 'jwk' });
}, 60_000);
afterAll(() => stack?.stop());

/** A JWT signed RS256 with `key`, shaped as cognito-local's ID tokens are (kid CognitoLocal). */
function signToken(payload: Record<string, unknown>, key: KeyObject): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' })}.${part(payload)}`;
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
}

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: '7d4f6a52-0b1c-4d2e-9f3a-5b6c7d8e9f00', email: 'someone@example.com', token_use: 'id', aud: stack.userPool.clientId, iss: stack.userPool.issuer, iat: now, exp: now + 600, ...overrides };
}

async function graphqlOrder(client: WebClient, orderId: string) {
  const response = await client.request('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: 'query ($id: OrderId!) { order(id: $id) { id status customerId } }', variables: { id: orderId } }),
  });
  return { status: response.status, body: (await response.json()) as { data?: { order: { id: string } | null } } };
}

/** The subscription's events as text, until the stream ends or `until` shows up in it. */
async function subscriptionStream(client: WebClient, orderId: string, until?: string): Promise<string> {
  const query = encodeURIComponent(`subscription { orderStatus(id: "${orderId}", waitSeconds: 2) { id status } }`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  const response = await client.request(`/graphql/stream?query=${query}`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
  let text = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (until && text.includes(until)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return text;
}

describe('accounts: what one customer can never see or do as another', () => {
  it("when another account asks for a customer's order, then the status page, its JSON and GraphQL (query and subscription) answer as for an order that does not exist; the owner sees it", async () => {
    const owner = await signedInCustomer(stack);
    const other = await signedInCustomer(stack);
    await owner.client.putInCart('Margherita', 2);
    const orderId = await owner.client.checkout();
    await waitFor(() => stack.store.get(orderId), { what: 'the order stored' });

    expect((await owner.client.get(`/orders/${orderId}`)).response.status).toBe(200);
    const page = await other.client.get(`/orders/${orderId}`);
    expect(page.response.status).toBe(404);
    expect(page.html).toContain('No order with this number was found');
    expect(page.html).not.toContain('Margherita');
    // A just-placed marker makes the page wait for someone else's order as for any number never placed
    // (accounts-abuse.test.ts compares the two): the wait shows nothing of it.
    const waiting = await other.client.get(`/orders/${orderId}?placed=${Date.now()}`);
    expect(waiting.html).toContain('Your order is placed');
    expect(waiting.html).not.toContain('Margherita');
    expect((await other.client.request(`/orders/${orderId}`, { headers: { accept: 'application/json' } })).status).toBe(404);
    expect((await new WebClient(stack.urls.web).get(`/orders/${orderId}`)).response.status).toBe(404);

    expect((await graphqlOrder(owner.client, orderId)).body.data?.order?.id).toBe(orderId);
    expect(await graphqlOrder(other.client, orderId)).toEqual({ status: 200, body: { data: { order: null } } });
    expect(await graphqlOrder(new WebClient(stack.urls.web), orderId)).toEqual({ status: 200, body: { data: { order: null } } });
    const stream = await subscriptionStream(other.client, orderId);
    expect(stream).toContain('"orderStatus":null');
    expect(stream).not.toContain(`"id":"${orderId}"`);
    expect(stream.trimEnd()).toMatch(/event: complete\ndata:$/);
    expect(await subscriptionStream(owner.client, orderId, `"id":"${orderId}"`)).toContain(`"id":"${orderId}"`);
  }, 30_000);

  it("when a cancel is posted for a customer's order by another account, or without the CSRF token, then it is refused (404, 403) and the order stays RECEIVED; the owner's cancel from its page makes it CANCELLED and the button goes; a second post shows it cancelled; one the kitchen started is a 409 page", async () => {
    const slow = { RECEIVED: 3600, PREPARING: 3600, READY: 3600 };
    const owner = await newCustomer(stack);
    const ownerClient = new WebClient(stack.urls.web);
    await ownerClient.signIn(owner.email, owner.password);
    const other = await signedInCustomer(stack);
    const now = new Date();
    const order = storedOrder({ ...acceptOrder({ customer_id: owner.id, lines: [{ product_id: 'Margherita', quantity: 1 }] }, { now }), account_id: owner.id, customer_email: owner.email }, now, slow);
    await stack.store.putOnce(order);
    const url = `/orders/${order.order_id}`;

    expect((await ownerClient.get(url)).html).toContain('id="cancel-order"');
    expect((await ownerClient.get('/my-orders')).html).toContain(`id="cancel-${order.order_id}"`);
    await other.client.get('/');
    const refused = await other.client.post(`${url}/cancel`, {});
    expect(refused.status).toBe(404);
    expect(await refused.text()).not.toContain('Margherita');
    expect((await ownerClient.post(`${url}/cancel`, {}, { csrf: null })).status).toBe(403);
    expect(await stack.store.get(order.order_id)).toMatchObject({ status: 'RECEIVED', version: 1 });

    const cancelled = await ownerClient.post(`${url}/cancel`, {});
    expect(cancelled.status).toBe(303);
    expect(cancelled.headers.get('location')).toBe(url);
    expect(await stack.store.get(order.order_id)).toMatchObject({ status: 'CANCELLED', status_history: [{ status: 'RECEIVED' }, { status: 'CANCELLED', by: { role: 'customer', id: owner.id } }] });
    const page = await ownerClient.get(url);
    expect(page.html).not.toContain('id="cancel-order"');
    expect((await ownerClient.get('/my-orders')).html).not.toContain(`id="cancel-${order.order_id}"`);
    expect(page.html).toContain('Your order was cancelled');
    expect(page.html).toMatch(/<strong>CANCELLED<\/strong> <time[^>]*>[^<]*<\/time> <span class="by">by you<\/span>/);
    // A second post (a double click, a second window): what the customer asked for holds, no error page.
    const again = await ownerClient.post(`${url}/cancel`, {});
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(url);

    // One the kitchen has started: a 409 page that says so, whose refresh goes to the order's page, not the post's address.
    const started = applyChange(storedOrder({ ...acceptOrder({ customer_id: owner.id, lines: [{ product_id: 'Margherita', quantity: 1 }] }, { now }), account_id: owner.id, customer_email: owner.email }, now, slow), transition({ status: 'RECEIVED', version: 1 }, { at: now, timings: slow }));
    await stack.store.putOnce(started);
    const late = await ownerClient.post(`/orders/${started.order_id}/cancel`, {});
    expect(late.status).toBe(409);
    const latePage = await late.text();
    expect(latePage).toContain('This order can no longer be cancelled: it is preparing.');
    expect(latePage).toContain(`content="5; url=/orders/${started.order_id}"`);
    expect(latePage).not.toContain('id="cancel-order"');
    expect(await stack.store.get(started.order_id)).toMatchObject({ status: 'PREPARING', version: 2 });
  }, 30_000);

  it("when an integration places an order with the API key, then anyone with its number still sees it, signed in or not (today's behaviour)", async () => {
    const response = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SEED_ORDER) });
    const { order_id: orderId } = (await response.json()) as { order_id: string };
    await waitFor(() => stack.store.get(orderId), { what: 'the order stored' });
    const { client } = await signedInCustomer(stack);
    expect((await client.get(`/orders/${orderId}`)).response.status).toBe(200);
    expect((await new WebClient(stack.urls.web).get(`/orders/${orderId}`)).response.status).toBe(200);
    expect((await graphqlOrder(client, orderId)).body.data?.order?.id).toBe(orderId);
  });

  it("when one customer fills a cart, then another account's cart page and menu show none of it", async () => {
    const owner = await signedInCustomer(stack);
    const other = await signedInCustomer(stack);
    expect((await owner.client.putInCart('Calzone', 4)).status).toBe(303);
    expect((await owner.client.get('/cart')).html).toContain('data-product-id="Calzone"');
    const cart = await other.client.get('/cart');
    expect(cart.html).toContain('Your cart is empty');
    expect(cart.html).not.toContain('Calzone"');
  });

  it('when a form is posted without a CSRF token, or with the token (and cookie) of another session, then it is refused with 403 and nothing changes', async () => {
    const victim = await signedInCustomer(stack);
    const attacker = await signedInCustomer(stack);
    const refused = await victim.client.post('/cart/lines', { product_id: 'Banana', quantity: '3' }, { csrf: null });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('This form could not be accepted');

    // The attacker's own valid token, with its cookie, carried along with the victim's session.
    await attacker.client.get('/');
    const mixed = new WebClient(stack.urls.web);
    for (const [name, value] of victim.client.cookies) mixed.cookies.set(name, value);
    mixed.cookies.set(COOKIES.csrf, attacker.client.cookies.get(COOKIES.csrf)!);
    expect((await mixed.post('/cart/lines', { product_id: 'Banana', quantity: '3' }, { csrf: attacker.client.csrf! })).status).toBe(403);
    // The token alone, with the victim's own CSRF cookie: the two do not match.
    expect((await victim.client.post('/cart/lines', { product_id: 'Banana', quantity: '3' }, { csrf: attacker.client.csrf! })).status).toBe(403);
    // Signing out is a form too.
    expect((await victim.client.post('/sign-out', {}, { csrf: null })).status).toBe(403);

    expect((await victim.client.get('/cart')).html).toContain('Your cart is empty');
    // With its own token the same post goes through: the refusals were the token's doing.
    expect((await victim.client.post('/cart/lines', { product_id: 'Banana', quantity: '3' })).status).toBe(303);
  });

  it('when a visitor posts the sign-in form without the token of their pre-session, then it is refused', async () => {
    const visitor = new WebClient(stack.urls.web);
    const other = new WebClient(stack.urls.web);
    await visitor.get('/sign-in');
    await other.get('/sign-in');
    expect((await visitor.post('/sign-in', { email: 'a@example.com', password: PASSWORD }, { csrf: null })).status).toBe(403);
    expect((await visitor.post('/sign-in', { email: 'a@example.com', password: PASSWORD }, { csrf: other.csrf! })).status).toBe(403);
  });
});

describe('accounts: tokens the web tier must not take for a session', () => {
  /** A client whose session cookie is `token` (and no refresh token). */
  function withToken(token: string): WebClient {
    const client = new WebClient(stack.urls.web);
    client.cookies.set(COOKIES.idToken, token);
    return client;
  }

  it('when the token is signed with cognito-local\'s own key and is current, then it is a session (the forgeries below differ only in what they break)', async () => {
    const response = await withToken(signToken(claims(), cognitoKey)).request('/cart');
    // A session: the cart page is asked for upstream (that sub has an empty cart).
    expect(response.status).toBe(200);
  });

  it.each([
    ['signed with another key', () => signToken(claims(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
    ['expired', () => signToken(claims({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }), cognitoKey)],
    ['of another pool', () => signToken(claims({ iss: `${stack.urls.cognito}/local_otherpool` }), cognitoKey)],
    ['for another app client', () => signToken(claims({ aud: 'another-client' }), cognitoKey)],
    ['an access token', () => signToken(claims({ token_use: 'access' }), cognitoKey)],
    ['not a JWT', () => 'not.a.token'],
  ])('when the session cookie holds a token %s, then pages send the visitor to sign in, GraphQL sees nobody, and the cookie is cleared', async (_what, make) => {
    const client = withToken(make());
    const cart = await client.request('/cart');
    expect(cart.status).toBe(303);
    expect(cart.headers.get('location')).toMatch(/^\/sign-in\?/);
    expect(client.cookies.has(COOKIES.idToken)).toBe(false);
    const checkout = await withToken(make()).request('/my-orders');
    expect(checkout.status).toBe(303);
    const menu = await withToken(make()).get('/');
    expect(menu.response.status).toBe(200);
    expect(menu.html).toContain('id="nav-sign-in"');
  });
});

describe('accounts: sign-in throttling and cookie attributes (a web tier behind a load balancer)', () => {
  let web: Awaited<ReturnType<typeof startWeb>>;
  beforeAll(async () => {
    web = await startWeb({
      API_BASE_URL: stack.urls.api,
      API_KEY: stack.apiKey,
      TRUST_PROXY_HOPS: '1',
      COGNITO_ENDPOINT: stack.urls.cognito,
      COGNITO_USER_POOL_ID: stack.userPool.userPoolId,
      COGNITO_CLIENT_ID: stack.userPool.clientId,
      COGNITO_ISSUER: stack.userPool.issuer,
    });
  });
  afterAll(() => web?.stop());

  const from = (ip: string, proto = 'http') => new WebClient(web.url, { 'x-forwarded-for': ip, 'x-forwarded-proto': proto });

  async function wrongPassword(client: WebClient, email: string): Promise<number> {
    await client.get('/sign-in');
    return (await client.post('/sign-in', { email, password: 'Wrong-password-1' })).status;
  }

  it('when one account gets ten wrong passwords in a minute, each from another client, then the eleventh is 429 from yet another client, and so is the right password', async () => {
    const { email } = await signedInCustomer(stack);
    for (let i = 1; i <= 10; i++) expect(await wrongPassword(from(`10.1.0.${i}`), email)).toBe(401);
    const eleventh = from('10.1.0.11');
    expect(await wrongPassword(eleventh, email)).toBe(429);
    expect((await eleventh.post('/sign-in', { email, password: PASSWORD })).status).toBe(429);
    // Another account is not held back by it.
    const { email: otherEmail } = await signedInCustomer(stack);
    const fresh = from('10.1.0.12');
    await fresh.get('/sign-in');
    expect((await fresh.post('/sign-in', { email: otherEmail, password: PASSWORD })).status).toBe(303);
  });

  it('when one client gets thirty wrong passwords across thirty accounts, then its next attempt on any account is 429', async () => {
    const client = from('10.2.0.1');
    for (let i = 0; i < 30; i++) expect(await wrongPassword(client, `nobody-${i}-${Date.now()}@example.com`)).toBe(401);
    expect(await wrongPassword(client, `nobody-else-${Date.now()}@example.com`)).toBe(429);
    expect(await wrongPassword(from('10.2.0.2'), `nobody-else-${Date.now()}@example.com`)).toBe(401);
  });

  it('when a customer signs in, then every session cookie is HttpOnly and SameSite=Lax, and Secure when the request came over HTTPS', async () => {
    const { email } = await signedInCustomer(stack);
    for (const [proto, secure] of [['https', true], ['http', false]] as const) {
      const client = from(`10.3.0.${secure ? 1 : 2}`, proto);
      await client.get('/sign-in');
      const response = await client.post('/sign-in', { email, password: PASSWORD });
      expect(response.status).toBe(303);
      const cookies = response.headers.getSetCookie().filter((line) => line.startsWith(`${COOKIES.idToken}=`) || line.startsWith(`${COOKIES.refreshToken}=`));
      expect(cookies).toHaveLength(2);
      for (const line of cookies) {
        expect(line).toMatch(/; HttpOnly/);
        expect(line).toMatch(/; SameSite=Lax/);
        expect(/; Secure/.test(line)).toBe(secure);
      }
      const page = await client.request('/');
      const csrf = page.headers.getSetCookie().find((line) => line.startsWith(`${COOKIES.csrf}=`));
      expect(csrf).toMatch(/; HttpOnly/);
      expect(/; Secure/.test(csrf ?? '')).toBe(secure);
    }
  });
});
