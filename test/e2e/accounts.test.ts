import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack.js';
import { readOutbox, startTestStack } from '../helpers/local-stack.js';
import { ConfirmSignUpCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { codeMailedTo, cognitoOf, PASSWORD } from '../helpers/customers.js';
import { gate } from '../helpers/requirements.js';
import { waitFor } from '../helpers/wait.js';
import { browserSession, chromiumMissing, findChromium, screenshot } from './browser.js';

const chromiumPath = findChromium();
const describeInBrowser = gate('the accounts browser test', chromiumPath ? undefined : chromiumMissing).describe;

let stack: LocalStack;

/** The cart page's lines as product id → quantity. */
async function cartLines(page: Page): Promise<Record<string, number>> {
  await page.goto(`${stack.urls.web}/cart`);
  const rows = await page.locator('tr.cart-line').evaluateAll((elements) => elements.map((row) => [row.getAttribute('data-product-id'), Number(row.getAttribute('data-quantity'))]));
  return Object.fromEntries(rows) as Record<string, number>;
}

async function signIn(page: Page, email: string) {
  await page.goto(`${stack.urls.web}/sign-in`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in-submit');
  await page.waitForSelector('#signed-in-as');
}

describeInBrowser('a customer account in a real browser', () => {
  // The fast profile: the kitchen moves an order on within seconds.
  const { newContext } = browserSession(async () => (stack = await startTestStack()));

  it('when a customer signs up, confirms with the mailed code, fills a cart, signs out and in, and checks out, then the status page follows the order to COMPLETED, My orders lists it and the outbox holds a mail per step', async () => {
    const email = `e2e-${randomUUID().slice(0, 8)}@example.com`;
    const context = await newContext();
    const page = await context.newPage();

    await page.goto(`${stack.urls.web}/sign-up`);
    await page.fill('#email', email);
    await page.fill('#name', 'Ada <Lovelace>');
    await page.fill('#password', PASSWORD);
    await page.click('#sign-up-submit');
    await page.waitForURL(/\/confirm\?email=/);
    expect(await page.inputValue('#email')).toBe(email);
    // The code as the customer would read it: from the mail in the local outbox.
    await page.fill('#code', await codeMailedTo(stack, email));
    await page.fill('#password', PASSWORD);
    await page.click('#confirm-submit');
    await page.waitForURL(/\/sign-in\?notice=confirmed/);
    await signIn(page, email);
    // The name signed up with (the ID token's `name`), escaped as typed.
    expect(await page.textContent('#signed-in-as')).toBe('Signed in as Ada <Lovelace>');

    const wanted = { Margherita: 2, Tiramisu: 1, Espresso: 3 };
    for (const [product, quantity] of Object.entries(wanted)) {
      await page.fill(`#quantity-${product}`, String(quantity));
      await page.click(`#add-${product}`);
      await page.waitForSelector(`#add-${product}:has-text("Update cart")`);
    }
    expect(await cartLines(page)).toEqual(wanted);
    await screenshot(page, 'cart');

    await page.click('#sign-out');
    await page.waitForURL(/\/sign-in\?notice=signed-out/);
    await page.goto(`${stack.urls.web}/cart`);
    await page.waitForURL(/\/sign-in\?notice=sign-in-first/);
    await signIn(page, email);
    expect(await cartLines(page)).toEqual(wanted);

    await page.click('#checkout');
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}\?placed=\d+$/);
    const orderId = new URL(page.url()).pathname.split('/').pop()!;
    await page.waitForSelector('#order-status[data-status="PREPARING"]', { timeout: 15_000 });
    await page.waitForSelector('#order-status[data-status="COMPLETED"]', { timeout: 30_000 });
    await screenshot(page, 'account-order-completed');
    expect(await page.textContent('#status-title')).toBe('Your order is completed');
    expect(await cartLines(page)).toEqual({});

    await page.click('#nav-my-orders');
    await page.waitForURL(/\/my-orders$/);
    const rows = await page.locator('tr.my-order').evaluateAll((elements) => elements.map((row) => [row.getAttribute('data-order-id'), row.getAttribute('data-status')]));
    expect(rows).toEqual([[orderId, 'COMPLETED']]);
    await screenshot(page, 'my-orders');

    // One mail to the customer when the order was received, and one at each change of status.
    const subjects = await waitFor(
      async () => {
        const mails = (await readOutbox(stack)).filter((mail) => JSON.stringify(mail.to).includes(email) && (mail.subject ?? '').includes(orderId.slice(0, 8)));
        return mails.length >= 4 ? mails.map((mail) => mail.subject) : undefined;
      },
      { timeoutMs: 15_000, what: 'the four order mails' },
    );
    expect(subjects.sort()).toEqual(
      [
        `We have your order (order ${orderId.slice(0, 8)})`,
        `Your order is being prepared (order ${orderId.slice(0, 8)})`,
        `Your order is ready (order ${orderId.slice(0, 8)})`,
        `Your order is completed (order ${orderId.slice(0, 8)})`,
      ].sort(),
    );
    await context.close();
  }, 90_000);

  it('when a customer opens every page of the shop, signed out and then signed in, then each answers below 500, and signed in each carries the sign-out form', async () => {
    const email = `pages-${randomUUID().slice(0, 8)}@example.com`;
    const cognito = cognitoOf(stack);
    await cognito.send(new SignUpCommand({ ClientId: stack.userPool.clientId, Username: email, Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: email }] }));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: stack.userPool.clientId, Username: email, ConfirmationCode: await codeMailedTo(stack, email) }));
    const context = await newContext();
    const page = await context.newPage();
    const paths = ['/', '/cart', '/my-orders', `/orders/${randomUUID()}`, `/orders/${randomUUID()}?placed=${Date.now()}`, `/find?id=${randomUUID()}`, '/sign-up', '/confirm', '/confirm/resend', '/sign-in', '/forgot-password', '/reset-password'];
    const visit = async () => {
      const seen: { path: string; status: number; signedIn: boolean }[] = [];
      for (const path of paths) {
        const response = await page.goto(`${stack.urls.web}${path}`);
        seen.push({ path, status: response!.status(), signedIn: (await page.locator('#sign-out').count()) === 1 });
      }
      return seen;
    };

    const signedOut = await visit();
    expect(signedOut.filter(({ status }) => status >= 500)).toEqual([]);
    expect(signedOut.filter(({ signedIn }) => signedIn)).toEqual([]);

    await signIn(page, email);
    const signedIn = await visit();
    expect(signedIn.filter(({ status }) => status >= 500)).toEqual([]);
    // /sign-in takes a signed-in customer home; every page they land on has the header's sign-out form.
    expect(signedIn.filter(({ signedIn: hasForm }) => !hasForm)).toEqual([]);
    await context.close();
  });
});
