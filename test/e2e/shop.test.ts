import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack.js';
import { setStaffMember } from '../../ops/staff-members.js';
import { settings } from '../../platform/settings.js';
import { cognitoOf, newCustomer, type SignedInCustomer } from '../helpers/customers.js';
import { queueDepth, readOutbox, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { gate } from '../helpers/requirements.js';
import { browserSession, chromiumMissing, expectText, findChromium, screenshot, seriousViolations, signInOnPage } from './browser.js';

const chromiumPath = findChromium();
const describeInBrowser = gate('the browser tests', chromiumPath ? undefined : chromiumMissing).describe;

let stack: LocalStack;

async function ordersOf(customerId: string) {
  return (await stack.store.all()).filter((order) => order.customer_id === customerId);
}

/** A new account (made through the Cognito API: the sign-up pages have a browser test of their own), signed in on the page. */
async function signedIn(page: Page): Promise<SignedInCustomer> {
  const customer = await newCustomer(stack);
  await signInOnPage(page, stack.urls.web, customer);
  return customer;
}

/** From the menu, as a customer would: the product's quantity set, put in the cart, then the cart opened. */
async function fillCart(page: Page, lines: Record<string, number>, { tap = false } = {}) {
  await page.goto(stack.urls.web);
  for (const [product, quantity] of Object.entries(lines)) {
    await page.fill(`#quantity-${product}`, String(quantity));
    await (tap ? page.tap(`#add-${product}`) : page.click(`#add-${product}`));
    await page.waitForSelector(`#add-${product}:has-text("Update cart")`);
  }
  await (tap ? page.tap('#go-to-cart') : page.click('#go-to-cart'));
  await page.waitForURL(/\/cart$/);
}

describeInBrowser('the shop and the console in a real browser', () => {
  const { newPage } = browserSession(async () => (stack = await startTestStack({ ports: { console: 0 } })));

  it('when a customer orders from the menu, then the cart shows the total before checkout and the status page moves through every step by itself, without a reload', async () => {
    const page = await newPage();
    const who = await signedIn(page);
    await page.goto(stack.urls.web);
    await screenshot(page, 'menu', 'form');
    await fillCart(page, { Margherita: 3 });
    await expectText(page, '#cart-total', 'Total: $34.50');
    await expectText(page, 'tr.cart-line[data-product-id="Margherita"]', 'Pizza Margherita');
    await screenshot(page, 'cart-before-checkout');
    await page.click('#checkout');
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}\?placed=\d+$/);
    // A reload would lose both the marker and the record of the statuses the page went through.
    await page.evaluate(() => {
      const root = document.getElementById('order-status')!;
      const seen = [root.getAttribute('data-status')];
      (window as unknown as { seen: unknown[] }).seen = seen;
      new MutationObserver(() => {
        const status = root.getAttribute('data-status');
        if (seen[seen.length - 1] !== status) seen.push(status);
      }).observe(root, { attributes: true, attributeFilter: ['data-status'] });
    });
    await page.waitForSelector('#order-status[data-status="PREPARING"]', { timeout: 10_000 });
    await screenshot(page, 'status-preparing', 'status');
    await page.waitForSelector('#order-status[data-status="COMPLETED"]', { timeout: 20_000 });
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen.filter((status) => status !== 'PLACED')).toEqual(['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']);
    // A receipt: each line at the price it was checked out at, the total, and the name signed up with.
    await expectText(page, '#detail-total', '$34.50');
    expect(await page.locator('#receipt-lines tr').first().locator('th, td').allTextContents()).toEqual(['Pizza Margherita', '3', '$11.50', '$34.50']);
    await expectText(page, '#detail-customer', 'Ada Customer');
    await expectText(page, '#status-title', 'Your order is completed');
    for (const step of ['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']) expect(await page.locator(`#step-${step}`).getAttribute('class')).toContain('done');
    expect(await page.locator('#status-history li').count()).toBe(4);
    await screenshot(page, 'status-completed');
    // The table holds the same life: all four statuses, each stamped no earlier than the one before.
    const [stored, ...others] = await ordersOf(who.id);
    expect(others).toHaveLength(0);
    expect(stored!.status_history.map((entry) => entry.status)).toEqual(['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']);
    const times = stored!.status_history.map((entry) => Date.parse(entry.at));
    expect(times.every((time, i) => Number.isFinite(time) && (i === 0 || time >= times[i - 1]!))).toBe(true);
    // The mail of its last step, in HTML and text, greets them by name and links to the page it came from.
    const mail = await waitFor(async () => (await readOutbox(stack)).find((candidate) => candidate.subject?.startsWith('Your order is completed') && candidate.text?.includes(stored!.order_id)), { what: 'the completed mail' });
    expect(mail.text).toMatch(/^Hello Ada Customer,/);
    expect(mail.html || '').toContain('<p>Hello Ada Customer,</p>');
    const link = /href="([^"]+)"/.exec(mail.html || '')?.[1];
    // Through sign-in, which sends a signed-in reader straight on to the order.
    expect(link).toBe(`${stack.urls.web}/sign-in?next=%2Forders%2F${stored!.order_id}`);
    await page.goto(link!);
    await expectText(page, '#order-id', stored!.order_id);
    await expectText(page, '#status-title', 'Your order is completed');
  }, 45_000);

  it('when the sign-up form has errors, then each message is by its field, values are kept and focus is on the first error', async () => {
    const page = await newPage();
    await page.goto(`${stack.urls.web}/sign-up`);
    await page.fill('#email', 'not an email');
    await page.fill('#name', '<b>Ada</b>');
    await page.click('#sign-up-submit');
    await page.waitForSelector('#error-summary');
    await expectText(page, '#email-error', 'Must be an email address');
    await expectText(page, '#password-error', 'Type your password');
    expect(await page.locator('#name-error').count()).toBe(0);
    expect(await page.inputValue('#email')).toBe('not an email');
    expect(await page.inputValue('#name')).toBe('<b>Ada</b>');
    expect(await page.locator('b', { hasText: 'Ada' }).count()).toBe(0);
    expect(await page.getAttribute('#email', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#email', 'aria-describedby')).toContain('email-error');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
    await screenshot(page, 'sign-up-errors');
  });

  it('when a cart quantity is out of range, then the browser holds the form back, and posted anyway the cart page names the product and keeps the cart', async () => {
    const page = await newPage();
    await signedIn(page);
    await fillCart(page, { Banana: 2 });
    await page.fill('#cart-quantity-Banana', '0');
    await page.click('#change-Banana');
    expect(await page.evaluate(() => (document.getElementById('cart-quantity-Banana') as HTMLInputElement).validity.valid)).toBe(false);
    expect(await page.locator('#error-summary').count()).toBe(0);
    // Without the browser's own check (an old browser, a script): the server's.
    await page.evaluate(() => document.querySelectorAll('form').forEach((form) => (form.noValidate = true)));
    await page.click('#change-Banana');
    await page.waitForSelector('#error-summary');
    await expectText(page, '#error-summary', 'Banana:');
    expect(await page.getAttribute('tr.cart-line[data-product-id="Banana"]', 'data-quantity')).toBe('2');
    await screenshot(page, 'cart-errors');
  });

  it('when checkout is double-clicked, then one order is stored', async () => {
    const page = await newPage();
    const who = await signedIn(page);
    await fillCart(page, { Margherita: 2 });
    await page.dblclick('#checkout');
    await page.waitForSelector('#order-status[data-version="1"], #order-status[data-version="2"]', { timeout: 10_000 });
    await waitFor(async () => (await ordersOf(who.id)).length > 0);
    // Give a second order, had one been made, the time to be processed too.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await ordersOf(who.id)).toHaveLength(1);
  }, 30_000);

  it('when JavaScript is off, then signing in, the cart, checkout and the status all still work', async () => {
    const page = await newPage({ javaScriptEnabled: false });
    const who = await signedIn(page);
    await fillCart(page, { Banana: 4 });
    await expectText(page, '#cart-total', 'Total: $1.40');
    await page.click('#checkout');
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}\?placed=\d+$/);
    // The page refreshes itself through <noscript><meta http-equiv="refresh">, to the end of the order's life.
    await page.waitForSelector('#order-status[data-status="COMPLETED"]', { timeout: 30_000 });
    await expectText(page, '#detail-total', '$1.40');
    await screenshot(page, 'status-no-javascript');
    expect(await ordersOf(who.id)).toHaveLength(1);
  }, 45_000);

  it('when the screen is a phone, then the pages fit without sideways scrolling and an order can be placed', async () => {
    const page = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await signedIn(page);
    await page.goto(stack.urls.web);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(page, 'menu-phone', 'form-phone');
    await fillCart(page, { Margherita: 2, Espresso: 1 }, { tap: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(page, 'cart-phone');
    await page.tap('#checkout');
    await page.waitForSelector('#order-status[data-version="1"], #order-status[data-version="2"]', { timeout: 10_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(page, 'status-phone');
  }, 30_000);

  it('when a customer is signed in, then the header is one line on a 1280 px screen and nothing scrolls sideways on a 375 px phone', async () => {
    const page = await newPage({ viewport: { width: 1280, height: 800 } });
    // A long name (up to 100 characters are allowed): it must be cut short, not push the row onto two lines.
    await signInOnPage(page, stack.urls.web, await newCustomer(stack, 'Maximiliana Featherstonehaugh-Wolfeschlegelsteinhausen'));
    await page.goto(stack.urls.web);
    // One line: every control of the header overlaps every other one vertically.
    const boxes = await page.$$eval('.header-row :is(a, label, input:not([type="hidden"]), button, #signed-in-as)', (items) =>
      items.map((item) => ({ top: item.getBoundingClientRect().top, bottom: item.getBoundingClientRect().bottom })),
    );
    expect(boxes.length).toBeGreaterThanOrEqual(7);
    expect(Math.max(...boxes.map((box) => box.top))).toBeLessThan(Math.min(...boxes.map((box) => box.bottom)));
    await screenshot(page, 'header-signed-in');
    await page.setViewportSize({ width: 375, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'header-signed-in-phone');
  });

  it('when a page loads, then the icon its head links loads as an image under the page\'s CSP', async () => {
    const page = await newPage();
    await page.goto(stack.urls.web);
    const loaded = await page.evaluate(
      () =>
        new Promise<boolean>((resolve) => {
          const image = new Image();
          image.onload = () => resolve(image.naturalWidth > 0);
          image.onerror = () => resolve(false);
          image.src = document.querySelector<HTMLLinkElement>('link[rel="icon"]')!.href;
        }),
    );
    expect(loaded).toBe(true);
  });

  it('when an order number was never stored, then the status page says plainly that it was not found once its patience runs out; "find my order" opens an order by its id', async () => {
    const page = await newPage();
    await page.clock.install();
    const id = randomUUID();
    await page.goto(`${stack.urls.web}/orders/${id}?placed=${Date.now()}`);
    await expectText(page, '#status-text', 'PLACED');
    await page.clock.runFor(65_000);
    await page.waitForSelector('#order-status[data-not-found="true"]');
    await expectText(page, '#status-title', 'No order with this number was found');
    await expectText(page, '#status-hint', 'place the order again');
    expect(await page.textContent('#order-status')).not.toContain('safe in the queue');
    await page.fill('#find-order-id', id);
    await page.press('#find-order-id', 'Enter');
    await page.waitForURL(`${stack.urls.web}/orders/${id}`);
    await expectText(page, 'h1', 'No order with this number was found');
  }, 30_000);

  it('when a poison message fails, then the console shows it in the DLQ, the alarm in ALARM and its mail; after redrive it shows it leaving', async () => {
    const poison = JSON.stringify({ order_id: randomUUID(), product_id: 'Caviar', note: '<script>alert(1)</script>' });
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queue.url, MessageBody: poison }));
    const page = await newPage();
    await page.goto(stack.urls.console!);
    await page.waitForSelector('#dlq-messages', { timeout: 30_000 });
    await expectText(page, '#dlq-messages', '<script>alert(1)</script>');
    await page.waitForFunction(() => document.querySelector('#alarm-state')?.textContent === 'ALARM', undefined, { timeout: 15_000 });
    const alarmMail = page.locator('#mails details', { hasText: 'ALARM: "orders-dlq-not-empty"' });
    await alarmMail.waitFor({ timeout: 15_000 });
    await alarmMail.locator('summary').click();
    await expectText(page, '#mails details[open] .mail-text', 'QueueName = orders-dlq');
    await screenshot(page, 'console', 'console');

    await page.click('#redrive');
    await expectText(page, '.notice', 'Redrove 1 message to orders');
    await expectText(page, '#dlq-count', '0');
    expect((await queueDepth(stack, stack.resources.deadLetterQueue)).visible).toBe(0);
    await screenshot(page, 'console-after-redrive');
  }, 60_000);

  it('when axe-core checks every customer page, the staff\'s board and menu and the console, then it finds no serious or critical violations', async () => {
    const page = await newPage({ bypassCSP: true });
    const pages: Record<string, () => Promise<unknown>> = {
      'menu, signed out': () => page.goto(stack.urls.web),
      'sign-up': () => page.goto(`${stack.urls.web}/sign-up`),
      'sign-up with errors': async () => {
        await page.goto(`${stack.urls.web}/sign-up`);
        await page.click('#sign-up-submit');
        await page.waitForSelector('#error-summary');
      },
      'sign-in': () => page.goto(`${stack.urls.web}/sign-in`),
      'menu, signed in': async () => {
        await signedIn(page);
        await page.goto(stack.urls.web);
      },
      'cart, empty': () => page.goto(`${stack.urls.web}/cart`),
      cart: () => fillCart(page, { Margherita: 1, Tiramisu: 2 }),
      'cart with errors': async () => {
        await page.goto(`${stack.urls.web}/cart`);
        await page.evaluate(() => document.querySelectorAll('form').forEach((form) => (form.noValidate = true)));
        await page.fill('#cart-quantity-Margherita', '0');
        await page.click('#change-Margherita');
        await page.waitForSelector('#error-summary');
      },
      'status, placed': () => page.goto(`${stack.urls.web}/orders/${randomUUID()}?placed=${Date.now()}`),
      'status, received': async () => {
        await page.goto(`${stack.urls.web}/cart`);
        await page.click('#checkout');
        await page.waitForSelector('#order-status[data-status="RECEIVED"]');
      },
      'my orders': () => page.goto(`${stack.urls.web}/my-orders`),
      'order not found': () => page.goto(`${stack.urls.web}/orders/${randomUUID()}`),
      'not found': () => page.goto(`${stack.urls.web}/no-such-page`),
      'bad order number': () => page.goto(`${stack.urls.web}/orders/not-an-id`),
      // Last of the shop's: signed in again as a member of staff, their board (its orders may be done by now).
      'staff board': async () => {
        const member = await newCustomer(stack, 'Sam Staff');
        await setStaffMember(cognitoOf(stack), { poolName: settings.accounts.userPool.name, email: member.email, member: true });
        await page.goto(stack.urls.web);
        await page.click('#sign-out');
        await signInOnPage(page, stack.urls.web, member);
        await page.goto(`${stack.urls.web}/staff`);
        await page.waitForSelector('#board');
      },
      'staff menu': () => page.goto(`${stack.urls.web}/staff/menu`),
      'staff menu with errors': async () => {
        await page.goto(`${stack.urls.web}/staff/menu`);
        await page.evaluate(() => document.querySelectorAll('form').forEach((form) => (form.noValidate = true)));
        await page.fill('#new-price', 'twelve');
        await page.click('#add-product-save');
        await page.waitForSelector('#error-summary');
      },
      console: () => page.goto(stack.urls.console!),
    };
    const found: Record<string, unknown> = {};
    for (const [name, open] of Object.entries(pages)) {
      await open();
      const violations = await seriousViolations(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
  }, 90_000);
});
