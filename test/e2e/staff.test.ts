// The staff's board in a real browser, beside a customer's: a new order shows up by itself, the
// board's buttons move and cancel orders, and the customer's page and mail follow.
import type { Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack.js';
import { setStaffMember } from '../../ops/staff-members.js';
import { settings } from '../../platform/settings.js';
import { cognitoOf, newCustomer, type SignedInCustomer } from '../helpers/customers.js';
import { readOutbox, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { gate } from '../helpers/requirements.js';
import { browserSession, chromiumMissing, expectText, findChromium, screenshot, signInOnPage } from './browser.js';

const chromiumPath = findChromium();
const describeInBrowser = gate('the browser tests', chromiumPath ? undefined : chromiumMissing).describe;

let stack: LocalStack;

describeInBrowser('the staff\'s board in a real browser', () => {
  // The kitchen's timer is off: the orders move only when staff move them.
  const { newPage } = browserSession(async () => (stack = await startTestStack({ runSchedules: false })));

  async function signedInPage(account: SignedInCustomer): Promise<Page> {
    const page = await newPage();
    await signInOnPage(page, stack.urls.web, account);
    return page;
  }

  /** From the menu to the status page, as the customer would; the order's id. */
  async function checkOut(page: Page, product: string): Promise<string> {
    await page.goto(stack.urls.web);
    await page.fill(`#quantity-${product}`, '1');
    await page.click(`#add-${product}`);
    await page.waitForSelector(`#add-${product}:has-text("Update cart")`);
    await page.goto(`${stack.urls.web}/cart`);
    await page.click('#checkout');
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}\?placed=\d+$/);
    return /\/orders\/([0-9a-f-]{36})/.exec(page.url())![1]!;
  }

  it('when a customer checks out, then the order shows up on the open board without a reload; staff advance it and the customer\'s page follows; staff cancel another with a reason that reaches the customer\'s mail', async () => {
    const member = await newCustomer(stack, 'Sam Staff');
    await setStaffMember(cognitoOf(stack), { poolName: settings.accounts.userPool.name, email: member.email, member: true });
    const board = await signedInPage(member);
    await board.click('#nav-staff');
    await board.waitForURL(/\/staff$/);
    // Gone if the page reloads: the card must come by itself.
    await board.evaluate(() => ((window as unknown as { openSince: number }).openSince = Date.now()));

    const customer = await signedInPage(await newCustomer(stack, 'Cleo Customer'));
    const first = await checkOut(customer, 'Margherita');
    await board.waitForSelector(`#column-RECEIVED #order-${first}`, { timeout: 10_000 });
    expect(await board.evaluate(() => typeof (window as unknown as { openSince?: number }).openSince)).toBe('number');
    await expectText(board, `#order-${first}`, 'Cleo Customer');
    await expectText(board, `#order-${first}`, '1 × Pizza Margherita');
    await screenshot(board, 'staff-board', 'staff');

    await board.click(`#advance-${first}`);
    await board.waitForSelector(`#column-PREPARING #order-${first}`);
    // The customer's page, open all along, follows by itself.
    await customer.waitForSelector('#order-status[data-status="PREPARING"]', { timeout: 10_000 });
    await expectText(customer, '#status-history', 'by the shop');

    const second = await checkOut(customer, 'Tiramisu');
    await board.waitForSelector(`#column-RECEIVED #order-${second}`, { timeout: 10_000 });
    await board.fill(`#reason-${second}`, 'We are out of mascarpone');
    await board.click(`#cancel-${second}`);
    await board.waitForURL(/\/staff\?done=cancelled$/);
    expect(await board.locator(`#order-${second}`).count()).toBe(0);
    await customer.waitForSelector('#order-status[data-status="CANCELLED"]', { timeout: 10_000 });
    const stored = await stack.store.get(second);
    expect(stored?.status_history.at(-1)).toMatchObject({ status: 'CANCELLED', by: { role: 'staff', id: member.email }, reason: 'We are out of mascarpone' });
    const mail = await waitFor(async () => (await readOutbox(stack)).find((candidate) => candidate.subject?.startsWith('Your order was cancelled') && candidate.text?.includes(second)), { what: 'the cancellation mail' });
    expect(mail.text).toContain('Reason: We are out of mascarpone');
    expect(mail.html || '').toContain('Reason: We are out of mascarpone');
  }, 60_000);

  it('when staff add a product and change a price on /staff/menu, then a customer sees both and orders the new one, the stored order keeps its price after staff change it again, and a product staff make unavailable cannot be put in a cart', async () => {
    const member = await newCustomer(stack, 'Menu Staff');
    await setStaffMember(cognitoOf(stack), { poolName: settings.accounts.userPool.name, email: member.email, member: true });
    const staff = await signedInPage(member);
    await staff.goto(`${stack.urls.web}/staff`);
    await staff.click('#staff-board-menu');
    await staff.waitForURL(/\/staff\/menu$/);

    await staff.fill('#new-product-id', 'Arancini');
    await staff.fill('#new-name', 'Arancini');
    await staff.fill('#new-description', 'Fried rice balls, ragù.');
    await staff.selectOption('#new-category', 'starters');
    await staff.fill('#new-price', '7.25');
    await staff.click('#add-product-save');
    await staff.waitForURL(/\/staff\/menu\?saved=Arancini$/);
    await staff.fill('#price-Tiramisu', '6.90');
    await staff.click('#save-Tiramisu');
    await staff.waitForURL(/saved=Tiramisu$/);
    await screenshot(staff, 'staff-menu', 'staff');

    const customer = await signedInPage(await newCustomer(stack, 'Mia Customer'));
    await customer.goto(stack.urls.web);
    await expectText(customer, '#menu-starters #product-Arancini', '$7.25');
    await expectText(customer, '#product-Tiramisu', '$6.90');
    const orderId = await checkOut(customer, 'Arancini');
    await waitFor(async () => (await stack.store.get(orderId)) !== undefined, { what: 'the order to be stored' });

    await staff.fill('#price-Arancini', '8.00');
    await staff.click('#save-Arancini');
    await staff.waitForURL(/saved=Arancini$/);
    expect(await stack.store.get(orderId)).toMatchObject({ lines: [{ product_id: 'Arancini', product_name: 'Arancini', unit_price_cents: 725 }], total_cents: 725 });
    await customer.goto(`${stack.urls.web}/orders/${orderId}`);
    await expectText(customer, '#detail-total', '$7.25');
    await customer.goto(stack.urls.web);
    await expectText(customer, '#product-Arancini', '$8.00');

    await staff.uncheck('#available-Gelato');
    await staff.click('#save-Gelato');
    await staff.waitForURL(/saved=Gelato$/);
    await customer.goto(stack.urls.web);
    await expectText(customer, '#product-Gelato', 'Not available at the moment');
    expect(await customer.locator('#add-Gelato').count()).toBe(0);
  }, 60_000);
});
