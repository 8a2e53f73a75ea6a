import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack.js';
import { queueDepth, startTestStack } from '../helpers/local-stack.js';
import { waitFor } from '../helpers/wait.js';
import { gate } from '../helpers/requirements.js';
import { chromiumMissing, findChromium, launch, screenshot, seriousViolations } from './browser.js';

const chromiumPath = findChromium();
const describeInBrowser = gate('the browser tests', chromiumPath ? undefined : chromiumMissing).describe;

let stack: LocalStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  contexts.push(context);
  return context.newPage();
}

async function ordersOf(customerId: string) {
  return (await stack.store.all()).filter((order) => order.customer_id === customerId);
}

async function fillOrder(page: Page, { customer, product = 'Margherita', quantity = '2' }: { customer: string; product?: string; quantity?: string }) {
  await page.goto(stack.urls.web);
  await page.fill('#customer_id', customer);
  await page.selectOption('#product_id', product);
  await page.fill('#quantity', quantity);
}

const customer = () => `e2e-${randomUUID().slice(0, 8)}`;

describeInBrowser('the shop and the console in a real browser', () => {
  beforeAll(async () => {
    stack = await startTestStack({ ports: { console: 0 } });
    browser = await launch(chromiumPath!);
  }, 60_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.stop();
  });

  it('when a customer places an order, then the total shows before submitting and the status page moves through every step by itself, without a reload', async () => {
    const page = await newPage();
    const who = customer();
    await fillOrder(page, { customer: who, quantity: '3' });
    await expectText(page, '#order-total', 'Total: $34.50 (3 x Pizza Margherita)');
    expect(await page.isHidden('#preview-total')).toBe(true);
    await screenshot(page, 'form', 'form');
    await page.click('#submit-order');
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
    await expectText(page, '#detail-total', '$34.50');
    await expectText(page, '#detail-items', '3 x Pizza Margherita');
    await expectText(page, '#status-title', 'Your order is completed');
    for (const step of ['RECEIVED', 'PREPARING', 'READY', 'COMPLETED']) expect(await page.locator(`#step-${step}`).getAttribute('class')).toContain('done');
    expect(await page.locator('#status-history li').count()).toBe(4);
    await screenshot(page, 'status-completed');
    expect(await ordersOf(who)).toHaveLength(1);
  }, 45_000);

  it('when the form has errors, then each message is by its field, values are kept and focus is on the first error', async () => {
    const page = await newPage();
    await page.goto(stack.urls.web);
    await page.fill('#customer_id', 'not valid!');
    await page.fill('#quantity', '0');
    await page.click('#submit-order');
    await page.waitForSelector('#error-summary');
    await expectText(page, '#customer_id-error', 'Must be 1 to 64 letters');
    await expectText(page, '#product_id-error', 'Required');
    await expectText(page, '#quantity-error', 'Must be a whole number from 1 to 1000');
    expect(await page.inputValue('#customer_id')).toBe('not valid!');
    expect(await page.inputValue('#quantity')).toBe('0');
    expect(await page.getAttribute('#quantity', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#quantity', 'aria-describedby')).toContain('quantity-error');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('customer_id');
    await screenshot(page, 'form-errors');
  });

  it('when submit is double-clicked, then one order is stored', async () => {
    const page = await newPage();
    const who = customer();
    await fillOrder(page, { customer: who });
    await page.dblclick('#submit-order');
    await page.waitForSelector('#order-status[data-version="1"], #order-status[data-version="2"]', { timeout: 10_000 });
    await waitFor(async () => (await ordersOf(who)).length > 0);
    // Give a second order, had one been made, the time to be processed too.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await ordersOf(who)).toHaveLength(1);
  }, 30_000);

  it('when JavaScript is off, then the total, the order and its status all still work', async () => {
    const page = await newPage({ javaScriptEnabled: false });
    const who = customer();
    await fillOrder(page, { customer: who, product: 'Banana', quantity: '4' });
    await page.click('#preview-total');
    await expectText(page, '#order-total', 'Total: $1.40');
    expect(await page.inputValue('#customer_id')).toBe(who);
    await page.click('#submit-order');
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}\?placed=\d+$/);
    // The page refreshes itself through <noscript><meta http-equiv="refresh">, to the end of the order's life.
    await page.waitForSelector('#order-status[data-status="COMPLETED"]', { timeout: 30_000 });
    await expectText(page, '#detail-total', '$1.40');
    await screenshot(page, 'status-no-javascript');
  }, 45_000);

  it('when the screen is a phone, then the pages fit without sideways scrolling and an order can be placed', async () => {
    const page = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const who = customer();
    await fillOrder(page, { customer: who });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(page, 'form-phone', 'form-phone');
    await page.tap('#submit-order');
    await page.waitForSelector('#order-status[data-version="1"], #order-status[data-version="2"]', { timeout: 10_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await screenshot(page, 'status-phone');
  }, 30_000);

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

  it('when axe-core checks every customer page and the console, then it finds no serious or critical violations', async () => {
    const page = await newPage({ bypassCSP: true });
    const who = customer();
    const pages: Record<string, () => Promise<unknown>> = {
      form: () => page.goto(stack.urls.web),
      'form with errors': async () => {
        await page.goto(stack.urls.web);
        await page.click('#submit-order');
        await page.waitForSelector('#error-summary');
      },
      'status, placed': () => page.goto(`${stack.urls.web}/orders/${randomUUID()}?placed=${Date.now()}`),
      'status, received': async () => {
        await fillOrder(page, { customer: who });
        await page.click('#submit-order');
        await page.waitForSelector('#order-status[data-status="RECEIVED"]');
      },
      'order not found': () => page.goto(`${stack.urls.web}/orders/${randomUUID()}`),
      'not found': () => page.goto(`${stack.urls.web}/no-such-page`),
      'bad order number': () => page.goto(`${stack.urls.web}/orders/not-an-id`),
      console: () => page.goto(stack.urls.console!),
    };
    const found: Record<string, unknown> = {};
    for (const [name, open] of Object.entries(pages)) {
      await open();
      const violations = await seriousViolations(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
  }, 60_000);
});

async function expectText(page: Page, selector: string, text: string) {
  await page.waitForFunction(
    ({ selector, text }) => document.querySelector(selector)?.textContent?.includes(text) ?? false,
    { selector, text },
    { timeout: 10_000 },
  ).catch(async () => {
    throw new Error(`"${selector}" never showed "${text}"; it shows "${(await page.textContent(selector).catch(() => null)) ?? '(nothing)'}"`);
  });
}
