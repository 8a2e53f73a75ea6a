// Issue 20: accounts no one can abuse. A web tier with the shop's own limits (the shared test stack
// raises the per-client ones for its many customers), in front of the test stack's API and pool;
// each test asserts the outbox and the stored state, not only the status.
import { AdminGetUserCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTable, orderTableDefinition } from '../../local/resources.js';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { acceptOrder, storedOrder } from '../../domain/order.js';
import type { LocalStack } from '../../local/stack.js';
import { apiRequest, readOutbox, SEED_ORDER, startTestStack } from '../helpers/local-stack.js';
import { codeMailedTo, cognitoOf, newCustomer, PASSWORD, WebClient } from '../helpers/customers.js';
import { cognitoEnvOf, startWeb } from '../helpers/web.js';
import { waitFor } from '../helpers/wait.js';

let stack: LocalStack;
let web: Awaited<ReturnType<typeof startWeb>>;

beforeAll(async () => {
  stack = await startTestStack();
  // The shop's defaults but for the client address, which comes from X-Forwarded-For as behind the ALB.
  web = await startWeb({ ...cognitoEnvOf(stack), API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, TRUST_PROXY_HOPS: '1' });
}, 60_000);
afterAll(async () => {
  await web?.stop();
  await stack?.stop();
});

let clientNumber = 0;
/** A browser at an address of its own (X-Forwarded-For, as the ALB sets it). */
function newClient(): WebClient {
  clientNumber++;
  return new WebClient(web.url, { 'x-forwarded-for': `198.51.${Math.floor(clientNumber / 250)}.${clientNumber % 250}` });
}

/** Posts a form the way a browser does: its page first (for the CSRF token), then the form. */
async function postForm(client: WebClient, page: string, action: string, fields: Record<string, string>): Promise<Response> {
  await client.get(page);
  return client.post(action, fields);
}

/** The Cognito mails in the outbox to `email`. */
async function codeMailsTo(email: string): Promise<number> {
  return (await readOutbox(stack)).filter((mail) => mail.headers.get('x-cognito-code') !== undefined && JSON.stringify(mail.to).includes(email)).length;
}

/** An account signed up through Cognito but not confirmed; its first code mail is in the outbox. */
async function unconfirmedAccount(): Promise<string> {
  const email = `u-${randomUUID().slice(0, 8)}@example.com`;
  await cognitoOf(stack).send(new SignUpCommand({ ClientId: stack.userPool.clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
  await codeMailedTo(stack, email);
  return email;
}

/** A page's text with the parts that differ by request alone (the address, ids, tokens) taken out. */
const comparable = (html: string, ...vary: string[]) =>
  vary.reduce((text, value) => text.replaceAll(value, '<varies>').replaceAll(encodeURIComponent(value), '<varies>'), html).replace(/name="_csrf" value="[^"]+"/g, '').replace(/data-wait-ms="\d+"/g, 'data-wait-ms');

describe('accounts: limits on code mails and code attempts', () => {
  it('when one client asks 20 times for a reset code for one address, then 3 mails go out and the rest are 429 naming when to try again', async () => {
    const { email } = await newCustomer(stack);
    const before = await codeMailsTo(email);
    const client = newClient();
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 20; i++) {
      const response = await postForm(client, '/forgot-password', '/forgot-password', { email });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses).toEqual([303, 303, 303, ...Array<number>(17).fill(429)]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(await limited!.text()).toMatch(/Try again after \d\d:\d\d UTC \(in about \d+ minutes\)/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await codeMailsTo(email)) - before).toBe(3);
  });

  it('when 20 clients each ask once for a reset code for one address, then still only 3 mails go out', async () => {
    const { email } = await newCustomer(stack);
    const before = await codeMailsTo(email);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await postForm(newClient(), '/forgot-password', '/forgot-password', { email })).status);
    expect(statuses.filter((status) => status === 303)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(17);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await codeMailsTo(email)) - before).toBe(3);
  });

  it('when one client asks for codes for many addresses, then it is stopped after 10, whoever the addresses are', async () => {
    const client = newClient();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await postForm(client, '/forgot-password', '/forgot-password', { email: `nobody-${randomUUID().slice(0, 8)}@example.com` })).status);
    expect(statuses).toEqual([...Array<number>(10).fill(303), 429, 429]);
  });

  it('when 20 wrong confirmation codes are typed, then the 6th and later are 429, the right code is refused too while it lasts, and the account stays unconfirmed', async () => {
    const email = await unconfirmedAccount();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await postForm(newClient(), `/confirm?email=${encodeURIComponent(email)}`, '/confirm', { email, code: String(100000 + i), password: PASSWORD })).status);
    expect(statuses).toEqual([...Array<number>(5).fill(400), ...Array<number>(15).fill(429)]);
    expect((await postForm(newClient(), '/confirm', '/confirm', { email, code: await codeMailedTo(stack, email), password: PASSWORD })).status).toBe(429);
    const { UserStatus } = await cognitoOf(stack).send(new AdminGetUserCommand({ UserPoolId: stack.userPool.userPoolId, Username: email }));
    expect(UserStatus).toBe('UNCONFIRMED');
  });

  it('when 20 wrong reset codes are typed, then the 6th and later are 429 and the password is still the old one', async () => {
    const customer = await newCustomer(stack);
    expect((await postForm(newClient(), '/forgot-password', '/forgot-password', { email: customer.email })).status).toBe(303);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await postForm(newClient(), '/reset-password', '/reset-password', { email: customer.email, code: String(200000 + i), password: 'New-password-9' })).status);
    expect(statuses).toEqual([...Array<number>(5).fill(400), ...Array<number>(15).fill(429)]);
    const signIn = newClient();
    await signIn.signIn(customer.email, customer.password);
    expect((await signIn.get('/')).html).toContain('id="signed-in-as"');
  });

  it("when someone signs up an address first with a password of theirs, then its owner's sign-up changes nothing, the owner's code and own password confirm nothing, and the first one cannot sign in", async () => {
    const victim = `owner-${randomUUID().slice(0, 8)}@example.com`;
    expect((await postForm(newClient(), '/sign-up', '/sign-up', { email: victim, name: 'Mallory', password: 'Attack3r-password' })).status).toBe(303);
    await waitFor(async () => (await codeMailsTo(victim)) === 1, { what: "the squatter's sign-up code, in the owner's mailbox" });
    const owner = newClient();
    expect((await postForm(owner, '/sign-up', '/sign-up', { email: victim, name: 'Owner', password: PASSWORD })).status).toBe(303);
    expect((await postForm(owner, '/confirm/resend', '/confirm/resend', { email: victim })).status).toBe(303);
    await waitFor(async () => (await codeMailsTo(victim)) === 2, { what: 'the code sent again' });
    // The owner has the code (their mailbox) and types their own password: refused, and nothing is confirmed.
    const refused = await postForm(owner, `/confirm?email=${encodeURIComponent(victim)}`, '/confirm', { email: victim, code: await codeMailedTo(stack, victim), password: PASSWORD });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('That code and password do not match an account waiting to be confirmed.');
    const { UserStatus } = await cognitoOf(stack).send(new AdminGetUserCommand({ UserPoolId: stack.userPool.userPoolId, Username: victim }));
    expect(UserStatus).toBe('UNCONFIRMED');
    // The squatter, without the code, cannot get in either.
    const squatter = newClient();
    await squatter.get('/sign-in');
    expect((await squatter.post('/sign-in', { email: victim, password: 'Attack3r-password' })).status).toBe(401);
  });

  it('when an unconfirmed customer asks for their code again, then a new code is mailed and confirms the account', async () => {
    const email = await unconfirmedAccount();
    const client = newClient();
    const confirmPage = await client.get(`/confirm?email=${encodeURIComponent(email)}`);
    expect(confirmPage.html).toContain(`href="/confirm/resend?email=${encodeURIComponent(email)}"`);
    expect(confirmPage.html).toContain('href="/sign-in"');
    const resent = await postForm(client, `/confirm/resend?email=${encodeURIComponent(email)}`, '/confirm/resend', { email });
    expect(resent.status).toBe(303);
    await waitFor(async () => (await codeMailsTo(email)) === 2, { what: 'a second code mail' });
    expect((await postForm(client, '/confirm', '/confirm', { email, code: await codeMailedTo(stack, email), password: PASSWORD })).status).toBe(303);
    const { UserStatus } = await cognitoOf(stack).send(new AdminGetUserCommand({ UserPoolId: stack.userPool.userPoolId, Username: email }));
    expect(UserStatus).toBe('CONFIRMED');
  });
});

describe('accounts: no page tells whether an address has an account', () => {
  /** The answer to a form for `email`, and the page it leads to, with the address taken out. */
  async function answer(page: string, action: string, fields: Record<string, string>, email: string) {
    const client = newClient();
    await client.get(page);
    const started = Date.now();
    const response = await client.post(action, fields);
    const tookMs = Date.now() - started;
    const location = response.headers.get('location') ?? '';
    const next = location ? await client.get(location) : { html: await response.text() };
    return { status: response.status, location: location.replace(encodeURIComponent(email), '<email>'), page: comparable(next.html, email), tookMs };
  }

  it('when a reset code is asked for a known and an unknown address, then the status and the page are the same, and only the known address gets a mail', async () => {
    const known = (await newCustomer(stack)).email;
    const unknown = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    const before = await codeMailsTo(known);
    const [a, b] = [await answer('/forgot-password', '/forgot-password', { email: known }, known), await answer('/forgot-password', '/forgot-password', { email: unknown }, unknown)];
    expect({ ...a, tookMs: 0 }).toEqual({ ...b, tookMs: 0 });
    expect(a.status).toBe(303);
    expect(a.page).toContain('If an account has this address, we have mailed a code to it.');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await codeMailsTo(known)) - before).toBe(1);
    expect(await codeMailsTo(unknown)).toBe(0);
  });

  it('when someone signs up with an address that has an account and with a new one, then the status and the page are the same; the account is untouched and only the new address gets a code', async () => {
    const known = await newCustomer(stack);
    const fresh = `new-${randomUUID().slice(0, 8)}@example.com`;
    const before = await codeMailsTo(known.email);
    const [a, b] = [
      await answer('/sign-up', '/sign-up', { email: known.email, name: 'Mallory', password: 'Other-password-1' }, known.email),
      await answer('/sign-up', '/sign-up', { email: fresh, name: 'Newcomer', password: 'Other-password-1' }, fresh),
    ];
    expect({ ...a, tookMs: 0 }).toEqual({ ...b, tookMs: 0 });
    expect(a.status).toBe(303);
    expect(a.page).toContain('If this address can open a new account, we have mailed a six-digit code to it.');
    await codeMailedTo(stack, fresh);
    expect(await codeMailsTo(known.email)).toBe(before);
    // The existing account keeps its password.
    const client = newClient();
    await client.signIn(known.email, known.password);
  });

  it('when the account service takes its time (it hangs), then sign-up, send again and forgotten password still answer at once, alike: their time never waits on Cognito', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const slow = await startWeb({ ...cognitoEnvOf(stack), COGNITO_ENDPOINT: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`, API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey });
    try {
      const known = (await newCustomer(stack)).email;
      for (const [page, fields] of [['/sign-up', { name: 'X', password: 'Other-password-1' }], ['/confirm/resend', {}], ['/forgot-password', {}]] as const) {
        for (const email of [known, `nobody-${randomUUID().slice(0, 8)}@example.com`]) {
          const client = new WebClient(slow.url);
          await client.get(page);
          const started = Date.now();
          const response = await client.post(page, { email, ...fields });
          expect({ page, status: response.status }).toEqual({ page, status: 303 });
          expect(Date.now() - started).toBeLessThan(1000);
        }
      }
    } finally {
      hanging.closeAllConnections();
      hanging.close();
      await slow.stop();
    }
  });

  const PROBER_PASSWORD = 'Prober-password-1';
  /** A known and an unknown address each signed up by a prober with PROBER_PASSWORD, then `fields` posted to `path` for each: the two answers. */
  async function signUpThenPost(path: string, fields: Record<string, string>) {
    const answers = [];
    for (const email of [(await newCustomer(stack)).email, `nobody-${randomUUID().slice(0, 8)}@example.com`]) {
      await postForm(newClient(), '/sign-up', '/sign-up', { email, name: 'Prober', password: PROBER_PASSWORD });
      answers.push(await answer(path, path, { email, ...fields }, email));
    }
    return answers;
  }

  it('when someone signs up a known and an unknown address with a password of theirs and then signs in with it, then both sign-ins are refused alike', async () => {
    const answers = await signUpThenPost('/sign-in', { password: PROBER_PASSWORD });
    expect({ ...answers[0], tookMs: 0 }).toEqual({ ...answers[1], tookMs: 0 });
    expect(answers[0]!.status).toBe(401);
  });

  it('when someone signs up a known and an unknown address with a password of theirs and then confirms with it, then the two answers match in status, page and time (no sooner than the floor)', async () => {
    const answers = await signUpThenPost('/confirm', { code: '000000', password: PROBER_PASSWORD });
    expect({ ...answers[0], tookMs: 0 }).toEqual({ ...answers[1], tookMs: 0 });
    expect(answers[0]!.status).toBe(400);
    // Cognito is asked twice for the new address and once for the known one; both wait out the floor (1 s by default).
    for (const { tookMs } of answers) expect(tookMs).toBeGreaterThanOrEqual(990);
    expect(Math.abs(answers[0]!.tookMs - answers[1]!.tookMs)).toBeLessThan(250);
  });

  it('when a confirmed account is "confirmed" again with its right password, then it is refused as with a wrong one (the form is no second way to try passwords)', async () => {
    const customer = await newCustomer(stack);
    const [right, wrong] = [
      await answer('/confirm', '/confirm', { email: customer.email, code: '000000', password: customer.password }, customer.email),
      await answer('/confirm', '/confirm', { email: customer.email, code: '000000', password: 'Wrong-password-1' }, customer.email),
    ];
    expect({ ...right, tookMs: 0 }).toEqual({ ...wrong, tookMs: 0 });
    expect(right.status).toBe(400);
  });

  it('when a weak password is given for a known and an unknown address, then both are told the password rules, the same way', async () => {
    const known = (await newCustomer(stack)).email;
    const unknown = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    const [a, b] = [await answer('/sign-up', '/sign-up', { email: known, name: 'X', password: 'weak' }, known), await answer('/sign-up', '/sign-up', { email: unknown, name: 'X', password: 'weak' }, unknown)];
    expect({ ...a, tookMs: 0 }).toEqual({ ...b, tookMs: 0 });
    expect(a.status).toBe(400);
    expect(a.page).toContain('Use at least 8 characters with an upper-case letter, a lower-case letter and a number.');
  });

  it('when a code is sent again, or a code is typed, for an unconfirmed, a confirmed and an unknown address, then the answers are the same; only the unconfirmed one gets a new code', async () => {
    const unconfirmed = await unconfirmedAccount();
    const confirmed = (await newCustomer(stack)).email;
    const unknown = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    const resend = await Promise.all([unconfirmed, confirmed, unknown].map((email) => answer('/confirm/resend', '/confirm/resend', { email }, email)));
    expect(resend.map((one) => ({ ...one, tookMs: 0 }))).toEqual(Array(3).fill({ ...resend[0], tookMs: 0 }));
    expect(resend[0]!.page).toContain('If an account with this address is waiting to be confirmed, we have mailed it a new code.');
    const codes = await Promise.all([unconfirmed, confirmed, unknown].map((email) => answer('/confirm', '/confirm', { email, code: '000000', password: PASSWORD }, email)));
    expect(codes.map((one) => ({ ...one, tookMs: 0 }))).toEqual(Array(3).fill({ ...codes[0], tookMs: 0 }));
    expect(codes[0]!.status).toBe(400);
    expect(codes[0]!.page).toContain('That code and password do not match an account waiting to be confirmed.');
    const resets = await Promise.all([confirmed, unconfirmed, unknown].map((email) => answer('/reset-password', '/reset-password', { email, code: '000000', password: 'New-password-9' }, email)));
    expect(resets.map((one) => ({ ...one, tookMs: 0 }))).toEqual(Array(3).fill({ ...resets[0], tookMs: 0 }));
    expect(resets[0]!.status).toBe(400);
    await waitFor(async () => (await codeMailsTo(unconfirmed)) === 2, { what: 'the unconfirmed address\'s second code' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await codeMailsTo(unconfirmed)).toBe(2);
    expect(await codeMailsTo(confirmed)).toBe(1);
    expect(await codeMailsTo(unknown)).toBe(0);
  });
});

describe('accounts: the API key reaches orders placed with it only', () => {
  it("when an integration reads an account's order with the API key, then it is a 404 and a batch read leaves it out, as for an order never placed", async () => {
    const customer = await newCustomer(stack);
    const checkout = await apiRequest(stack, '/me/cart/lines/Calzone', { method: 'PUT', headers: { authorization: customer.idToken, 'content-type': 'application/json' }, body: JSON.stringify({ quantity: 2 }) });
    expect(checkout.status).toBe(200);
    const placed = await apiRequest(stack, '/me/orders', { method: 'POST', headers: { authorization: customer.idToken, 'content-type': 'application/json' }, body: '{}' });
    const { order_id: orderId } = (await placed.json()) as { order_id: string };
    const stored = await waitFor(() => stack.store.get(orderId), { what: 'the order stored' });
    expect(stored).toMatchObject({ account_id: customer.id, customer_email: customer.email });

    const single = await apiRequest(stack, `/orders/${orderId}`);
    const never = await apiRequest(stack, `/orders/${randomUUID()}`);
    expect(single.status).toBe(404);
    expect(never.status).toBe(404);
    const [body, neverBody] = [(await single.json()) as Record<string, unknown>, (await never.json()) as Record<string, unknown>];
    expect(Object.keys(body).sort()).toEqual(Object.keys(neverBody).sort());
    expect(JSON.stringify(body)).not.toContain(customer.email);
    const batch = (await (await apiRequest(stack, `/orders?ids=${orderId},${randomUUID()}`)).json()) as { orders: unknown[] };
    expect(batch.orders).toEqual([]);
    // With the customer's token, the same order is theirs to read.
    const own = await apiRequest(stack, `/me/orders/${orderId}`, { headers: { authorization: customer.idToken } });
    expect(own.status).toBe(200);
  });

  it("when an integration places an order naming an account's id as its customer, then it is stored without an account and never in that account's My orders (API, ids or page)", async () => {
    const customer = await newCustomer(stack);
    const posted = await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer_id: customer.id, lines: [{ product_id: 'Calzone', quantity: 999 }] }) });
    expect(posted.status).toBe(202);
    const { order_id: orderId } = (await posted.json()) as { order_id: string };
    const stored = await waitFor(() => stack.store.get(orderId), { what: 'the order stored' });
    expect(stored.customer_id).toBe(customer.id);
    expect(stored.account_id).toBeUndefined();

    const mine = (await (await apiRequest(stack, '/me/orders', { headers: { authorization: customer.idToken } })).json()) as { orders: { order_id: string }[] };
    expect(mine.orders.map((order) => order.order_id)).not.toContain(orderId);
    expect((await apiRequest(stack, `/me/orders/${orderId}`, { headers: { authorization: customer.idToken } })).status).toBe(404);
    const byIds = (await (await apiRequest(stack, `/me/orders?ids=${orderId}`, { headers: { authorization: customer.idToken } })).json()) as { orders: unknown[] };
    expect(byIds.orders).toEqual([]);

    const client = newClient();
    await client.signIn(customer.email, customer.password);
    expect((await client.get('/my-orders')).html).not.toContain(orderId);
    // The seed's payload is still a valid integration order.
    expect((await apiRequest(stack, '/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SEED_ORDER) })).status).toBe(202);
  });
});

describe('accounts: orders stored before account_id', () => {
  it("when npm start finds a table of the version before account-orders, then it makes the table again with every item and gives the account's order its account_id", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'orders-upgrade-'));
    const timings = { RECEIVED: 3600, PREPARING: 3600, READY: 3600 };
    const account = { ...storedOrder(acceptOrder({ ...SEED_ORDER, customer_id: 'sub-upgrade-1' }, { now: new Date() }), new Date(), timings), customer_email: 'old@example.com' };
    const integration = storedOrder(acceptOrder({ ...SEED_ORDER, customer_id: 'sub-upgrade-1' }, { now: new Date() }), new Date(), timings);
    let old = await startTestStack({ stateDir, processOrders: false, runSchedules: false });
    try {
      // The table as the version before made it: the customer-orders index on customer_id, no account_id anywhere.
      const previous = orderTableDefinition(old.store.tableName);
      await makeTable(
        old.clients,
        {
          ...previous,
          AttributeDefinitions: previous.AttributeDefinitions!.map((attribute) => (attribute.AttributeName === 'account_id' ? { ...attribute, AttributeName: 'customer_id' } : attribute)),
          GlobalSecondaryIndexes: previous.GlobalSecondaryIndexes!.map((index) =>
            index.IndexName === 'account-orders' ? { ...index, IndexName: 'customer-orders', KeySchema: [{ AttributeName: 'customer_id', KeyType: 'HASH' }, index.KeySchema![1]!] } : index,
          ),
        },
        { replace: true },
      );
      for (const item of [account, integration]) await old.clients.documents.send(new PutCommand({ TableName: old.store.tableName, Item: item }));
    } finally {
      await old.stop();
    }
    old = await startTestStack({ stateDir, processOrders: false, runSchedules: false });
    try {
      const { Table } = await old.clients.dynamodb.send(new DescribeTableCommand({ TableName: old.store.tableName }));
      expect((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).sort()).toEqual(['account-orders', 'due-orders']);
      expect((await old.store.ordersOf('sub-upgrade-1', { limit: 10 })).orders.map((order) => order.order_id)).toEqual([account.order_id]);
      expect((await old.store.get(integration.order_id))?.account_id).toBeUndefined();
    } finally {
      await old.stop();
    }
  }, 60_000);

  it("when npm run migrate-orders runs, then an order an account checked out before account_id existed is listed in its My orders, an integration's order is left as it is, and a second run writes nothing", async () => {
    const customer = await newCustomer(stack);
    const timings = { RECEIVED: 3600, PREPARING: 3600, READY: 3600 };
    // As checkout and submit-order stored them before: the account's with its email, neither with account_id.
    const legacy = { ...storedOrder(acceptOrder({ ...SEED_ORDER, customer_id: customer.id }, { now: new Date() }), new Date(), timings), customer_email: customer.email };
    const integration = storedOrder(acceptOrder({ ...SEED_ORDER, customer_id: customer.id }, { now: new Date() }), new Date(), timings);
    for (const item of [legacy, integration]) await stack.clients.documents.send(new PutCommand({ TableName: stack.store.tableName, Item: item }));
    const listed = async () => ((await (await apiRequest(stack, '/me/orders', { headers: { authorization: customer.idToken } })).json()) as { orders: { order_id: string }[] }).orders.map((order) => order.order_id);
    expect(await listed()).toEqual([]);

    const migrate = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'ops/migrate-orders.ts', '--endpoint', stack.urls.dynamodb, '--table', stack.store.tableName, '--region', 'us-east-1'], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
    expect((await migrate()).stdout).toMatch(/: [1-9]\d* account orders? given their account_id\./);
    expect(await listed()).toEqual([legacy.order_id]);
    expect((await stack.store.get(integration.order_id))?.account_id).toBeUndefined();
    expect((await apiRequest(stack, `/orders/${legacy.order_id}`)).status).toBe(404);
    expect((await apiRequest(stack, `/orders/${integration.order_id}`)).status).toBe(200);
    expect((await migrate()).stdout).toContain(': 0 account orders given their account_id.');
  }, 30_000);
});

describe("accounts: another customer's order and an order never placed look the same", () => {
  async function subscriptionStream(client: WebClient, orderId: string): Promise<{ text: string; tookMs: number }> {
    const query = encodeURIComponent(`subscription { orderStatus(id: "${orderId}", waitSeconds: 1) { id status } }`);
    const started = Date.now();
    const response = await client.request(`/graphql/stream?query=${query}`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(15_000) });
    return { text: (await response.text()).replaceAll(orderId, '<id>'), tookMs: Date.now() - started };
  }

  it("when a customer asks for another customer's order and for a random id, then the status page (with and without ?placed), its JSON, GraphQL and the subscription answer alike", async () => {
    const owner = await newCustomer(stack);
    await apiRequest(stack, '/me/cart/lines/Margherita', { method: 'PUT', headers: { authorization: owner.idToken, 'content-type': 'application/json' }, body: JSON.stringify({ quantity: 1 }) });
    const { order_id: foreign } = (await (await apiRequest(stack, '/me/orders', { method: 'POST', headers: { authorization: owner.idToken, 'content-type': 'application/json' }, body: '{}' })).json()) as { order_id: string };
    await waitFor(() => stack.store.get(foreign), { what: 'the order stored' });
    const random = randomUUID();
    const other = await newCustomer(stack);
    const client = newClient();
    await client.signIn(other.email, other.password);

    const now = Date.now();
    for (const suffix of ['', `?placed=${now}`, `?placed=${now - 120_000}`]) {
      const [a, b] = [await client.get(`/orders/${foreign}${suffix}`), await client.get(`/orders/${random}${suffix}`)];
      expect(a.response.status).toBe(b.response.status);
      expect(comparable(a.html, foreign)).toBe(comparable(b.html, random));
      expect(a.html).not.toContain('Margherita');
    }
    const json = async (id: string) => {
      const response = await client.request(`/orders/${id}`, { headers: { accept: 'application/json' } });
      return { status: response.status, body: (await response.text()).replaceAll(id, '<id>') };
    };
    expect(await json(foreign)).toEqual(await json(random));
    const graphql = async (id: string) => {
      const response = await client.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query: 'query ($id: OrderId!) { order(id: $id) { id status } }', variables: { id } }) });
      return { status: response.status, body: await response.text() };
    };
    expect(await graphql(foreign)).toEqual(await graphql(random));
    expect(await graphql(foreign)).toEqual({ status: 200, body: '{"data":{"order":null}}' });

    const [streamA, streamB] = await Promise.all([subscriptionStream(client, foreign), subscriptionStream(client, random)]);
    expect(streamA.text).toBe(streamB.text);
    expect(streamA.text).toContain('"orderStatus":null');
    // Both wait the subscription's full second before they end; neither ends at once.
    for (const { tookMs } of [streamA, streamB]) expect(tookMs).toBeGreaterThanOrEqual(900);
  }, 30_000);
});

describe('the limit of a second', () => {
  it("when one client bursts page loads that each read the order API, then it is slowed to RATE_LIMIT_BURST_MAX a second and another client's pages still answer", async () => {
    const burstWeb = await startWeb({ ...cognitoEnvOf(stack), API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, TRUST_PROXY_HOPS: '1', RATE_LIMIT_BURST_MAX: '20' });
    try {
      const [greedy, other] = [new WebClient(burstWeb.url, { 'x-forwarded-for': '203.0.113.7' }), new WebClient(burstWeb.url, { 'x-forwarded-for': '203.0.113.8' })];
      const started = Date.now();
      const statuses = await Promise.all(Array.from({ length: 100 }, () => greedy.request(`/orders/${randomUUID()}`).then((response) => response.status)));
      // At most 20 through in each second the burst took (each window of a second it touched, rounded up).
      const windows = Math.ceil((Date.now() - started) / 1000) + 1;
      expect(statuses.filter((status) => status === 404).length).toBeLessThanOrEqual(20 * windows);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(100 - 20 * windows);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
      expect((await other.request(`/orders/${randomUUID()}`)).status).toBe(404);
    } finally {
      await burstWeb.stop();
    }
  });
});

describe('errors', () => {
  it('when a page fails with an error nobody expected, then it is a bare 500 and the error is logged once, with its request id', async () => {
    // An order API that answers what no version of it does.
    const api = createServer((_req, res) => res.writeHead(418, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const teapot = await startWeb({ API_BASE_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}` }, logger);
    try {
      const response = await fetch(`${teapot.url}/orders/${randomUUID()}`, { headers: { accept: 'text/html', 'x-request-id': 'req-once-1' } });
      expect(response.status).toBe(500);
      const html = await response.text();
      expect(html).toContain('Something went wrong');
      expect(html).not.toContain('418');
      await waitFor(() => lines.some((line) => line.includes('req-once-1')), { what: 'the log line' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const logged = lines.filter((line) => line.includes('Unexpected answer from GET /orders/{id}'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('"id":"req-once-1"');
    } finally {
      await teapot.stop();
      api.close();
    }
  });
});
