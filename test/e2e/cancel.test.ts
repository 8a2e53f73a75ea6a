// A customer changes their mind: checkout, then cancel from the status page, in a real browser.
// A stack of its own, whose orders wait 10 s in RECEIVED (the kitchen runs every second), so the
// cancel lands while the order may still be cancelled and the test can outwait the time it was due.
import type { Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack.js';
import { profiles } from '../../local/profiles.js';
import { newCustomer, type SignedInCustomer } from '../helpers/customers.js';
import { apiRequest, readOutbox, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { gate } from '../helpers/requirements.js';
import { browserSession, chromiumMissing, expectText, findChromium, screenshot, signInOnPage } from './browser.js';

const chromiumPath = findChromium();
const describeInBrowser = gate('the browser tests', chromiumPath ? undefined : chromiumMissing).describe;
const RECEIVED_SECONDS = 10;

let stack: LocalStack;

describeInBrowser('a customer cancels an order in a real browser', () => {
  const { newPage } = browserSession(async () => (stack = await startTestStack({ profile: { ...profiles.fast, lifecycleTimings: { ...profiles.fast.lifecycleTimings, RECEIVED: RECEIVED_SECONDS } } })));

  async function signedInPage(customer: SignedInCustomer, options: Parameters<typeof newPage>[0] = {}): Promise<Page> {
    const page = await newPage(options);
    await signInOnPage(page, stack.urls.web, customer);
    return page;
  }

  it('when a customer checks out and cancels from the status page, then the button shows up by itself, the order is CANCELLED by them, the kitchen never moves it, they are mailed, a page left open shows it cancelled and the API answers a second cancel with 409', async () => {
    const customer = await newCustomer(stack, 'Jo');
    const page = await signedInPage(customer);
    // A second window on the same account, without JavaScript: its page does not follow the order, so its button stays.
    const stale = await signedInPage(customer, { javaScriptEnabled: false });

    await page.goto(stack.urls.web);
    await page.fill('#quantity-Margherita', '2');
    await page.click('#add-Margherita');
    await page.waitForSelector('#add-Margherita:has-text("Update cart")');
    await page.goto(`${stack.urls.web}/cart`);
    await page.click('#checkout');
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}\?placed=\d+$/);
    const orderId = /\/orders\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    // The page waited for the order to be stored; the button shows up by itself once it is, no reload.
    await page.waitForSelector('#cancel-order-submit', { state: 'visible' });
    await stale.goto(`${stack.urls.web}/orders/${orderId}`);
    await screenshot(page, 'status-cancellable');

    await page.click('#cancel-order-submit');
    await page.waitForSelector('#order-status[data-status="CANCELLED"]');
    expect(await page.locator('#cancel-order').count()).toBe(0);
    await expectText(page, '#status-title', 'Your order was cancelled');
    await expectText(page, '#status-history li[data-status="CANCELLED"]', 'by you');
    await screenshot(page, 'status-cancelled');
    const stored = (await stack.store.get(orderId))!;
    expect(stored).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect(stored.status_history.map((entry) => entry.status)).toEqual(['RECEIVED', 'CANCELLED']);
    expect(stored.status_history[1]!.by).toEqual({ role: 'customer', id: customer.id });

    // The page left open still offers the button: what its customer asked for already holds, so it
    // shows the cancelled order, not an error. The API answers a second cancel with 409.
    await stale.click('#cancel-order-submit');
    await stale.waitForURL(`${stack.urls.web}/orders/${orderId}`);
    await expectText(stale, '#status-title', 'Your order was cancelled');
    expect(await stale.locator('#cancel-order').count()).toBe(0);
    const again = await apiRequest(stack, `/me/orders/${orderId}/cancel`, { method: 'POST', headers: { authorization: customer.idToken } });
    expect(again.status).toBe(409);
    expect(await stack.store.get(orderId)).toMatchObject({ status: 'CANCELLED', version: 2 });

    const mail = await waitFor(
      async () => (await readOutbox(stack)).find((candidate) => JSON.stringify(candidate.to ?? '').includes(customer.email) && candidate.subject?.startsWith('Your order was cancelled')),
      { timeoutMs: 15_000, what: 'the cancellation mail' },
    );
    expect(mail.text).toContain('You cancelled this order.');
    expect(mail.text).toContain(`Order ${orderId}`);

    // Past the time the kitchen would have taken it (it runs every second): still CANCELLED, unchanged.
    const dueAt = Date.parse(stored.status_history[0]!.at) + RECEIVED_SECONDS * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt + 2_000 - Date.now())));
    expect(await stack.store.get(orderId)).toMatchObject({ status: 'CANCELLED', version: 2 });
  }, 60_000);
});
