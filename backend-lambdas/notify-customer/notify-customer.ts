import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import escapeHtml from 'escape-html';
import * as z from 'zod/mini';
import { formatPrice } from '../../domain/catalogue.js';
import { parseConfig } from '../../domain/config.js';
import { isOrderStatus, type OrderStatus } from '../../domain/lifecycle.js';
import { customerNameOf, isOrderId, type StoredOrder } from '../../domain/order.js';
import { observabilityFor } from '../lib/defaults.js';
import { instrumented } from '../lib/observability.js';
import { createOrderStore, type OrderStore } from '../lib/order-store.js';
import type { LambdaHandler, Wiring } from '../lib/wiring.js';

export interface NotifyCustomerDeps {
  store: OrderStore;
  ses: SESv2Client;
  from: string;
  /** The shop's address (https://shop.example), for the link to the order's page; no link without it. */
  shopUrl?: string | undefined;
  logger: Logger;
  clock?: () => Date;
  /**
   * How long a delivery holds the mail of an event while it sends it: longer than the function may
   * run (its timeout, platform/functions.ts), so a claim is never taken from a live holder.
   */
  claimMs?: number;
}

/** Another delivery of the same event is mailing it now: this one goes back to the queue and finds it done. */
export class MailInProgressError extends Error {
  constructor(eventId: string) {
    super(`Event ${eventId} is being mailed by another delivery; retried later`);
    this.name = 'MailInProgressError';
  }
}

/** What the customer is told at each step. */
const HEADLINES: Readonly<Record<OrderStatus, string>> = {
  RECEIVED: 'We have your order',
  PREPARING: 'Your order is being prepared',
  READY: 'Your order is ready',
  COMPLETED: 'Your order is completed',
  CANCELLED: 'Your order was cancelled',
};

/** Who cancelled the order, and why, as the customer reads it. */
function cancellation(order: StoredOrder): string[] {
  const entry = order.status_history.find((candidate) => candidate.status === 'CANCELLED');
  const who = entry?.by?.role === 'customer' ? 'You cancelled this order.' : 'The shop cancelled this order.';
  return [who, ...(entry?.reason ? [`Reason: ${entry.reason}`] : [])];
}

export interface CustomerMail {
  subject: string;
  text: string;
  html: string;
}

/**
 * The customer's mail about one step of their order, in plain text and in HTML (every value from
 * the order escaped there): the greeting, the lines at the prices they were checked out at, the
 * total, what happens next and, when the shop's address is known, a link to the order's page.
 */
export function customerMail(order: StoredOrder, status: OrderStatus, shopUrl?: string): CustomerMail {
  const name = customerNameOf(order);
  const greeting = name ? `Hello ${name},` : 'Hello,';
  const headline = `${HEADLINES[status]}.`;
  const placed = `Order ${order.order_id}, placed ${order.order_date}:`;
  const price = (cents: number) => formatPrice(cents, order.currency);
  const total = price(order.total_cents);
  const after = status === 'CANCELLED' ? cancellation(order) : [status === 'RECEIVED' ? 'We will mail you again at each step.' : `Status: ${status}.`];
  // Through sign-in: an account's order is shown to its owner only, and a mail is often opened signed out.
  const link = shopUrl ? `${shopUrl}/sign-in?next=${encodeURIComponent(`/orders/${order.order_id}`)}` : undefined;
  const text = [
    greeting,
    '',
    headline,
    '',
    placed,
    ...order.lines.map((line) => `  ${line.quantity} x ${line.product_name} at ${price(line.unit_price_cents)}   ${price(line.line_total_cents)}`),
    `  Total   ${total}`,
    '',
    ...after,
    ...(link ? ['', `Your order: ${link}`] : []),
  ].join('\n');
  const cell = 'padding:4px 8px;text-align:right';
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;color:#222">',
    `<p>${escapeHtml(greeting)}</p>`,
    `<p><strong>${escapeHtml(headline)}</strong></p>`,
    `<p>${escapeHtml(placed)}</p>`,
    '<table style="border-collapse:collapse">',
    `<tr><th style="padding:4px 8px;text-align:left">Item</th><th style="${cell}">Quantity</th><th style="${cell}">Unit price</th><th style="${cell}">Line total</th></tr>`,
    ...order.lines.map((line) => `<tr><td style="padding:4px 8px">${escapeHtml(line.product_name)}</td><td style="${cell}">${line.quantity}</td><td style="${cell}">${escapeHtml(price(line.unit_price_cents))}</td><td style="${cell}">${escapeHtml(price(line.line_total_cents))}</td></tr>`),
    `<tr><th colspan="3" style="${cell}">Total</th><td style="${cell}"><strong>${escapeHtml(total)}</strong></td></tr>`,
    '</table>',
    ...after.map((line) => `<p>${escapeHtml(line)}</p>`),
    ...(link ? [`<p><a href="${escapeHtml(link)}">See your order</a></p>`] : []),
    '</body></html>',
  ].join('\n');
  return { subject: `${HEADLINES[status]} (order ${order.order_id.slice(0, 8)})`, text, html };
}

/** The event a record carries, from its message attributes (raw delivery from order-events). */
function eventOf(record: SQSRecord): { orderId: string; status: OrderStatus; eventId: string } {
  const attribute = (name: string) => record.messageAttributes[name]?.stringValue;
  const orderId = attribute('order_id');
  const status = attribute('status');
  const eventId = attribute('event_id');
  if (!orderId || !isOrderId(orderId) || !isOrderStatus(status) || !eventId) {
    throw new Error(`Not an order event this function can mail about (order_id ${orderId ?? 'none'}, status ${status ?? 'none'})`);
  }
  return { orderId, status, eventId };
}

/**
 * Mails the customer about each order event on the customer notifications queue (order.received
 * and order.status_changed from order-events, through SES). A customer is mailed once per event:
 * each delivery claims the event's mail before sending it, so a redelivery, even one that overlaps
 * the first, does not mail twice. An order with no
 * customer address (one an integration placed with the API key) has nobody to mail; its event is
 * done. A failure returns the record to the queue, and after 5 receives to its dead-letter queue.
 */
export function createNotifyCustomerHandler({ store, ses, from, shopUrl, logger, clock = () => new Date(), claimMs = 60_000 }: NotifyCustomerDeps) {
  const processor = new BatchProcessor(EventType.SQS);

  /** The send, its claim let go if it fails (else the retry would wait out the claim). */
  async function send(orderId: string, eventId: string, sending: Promise<unknown>): Promise<void> {
    try {
      await sending;
    } catch (error) {
      await store.releaseNotification(orderId, eventId).catch((release: unknown) => logger.warn('Could not let the mail claim go; it lapses by itself', { order_id: orderId, error: release as Error }));
      throw error;
    }
  }

  async function notify(record: SQSRecord): Promise<void> {
    const { orderId, status, eventId } = eventOf(record);
    const order = await store.get(orderId);
    if (!order) throw new Error(`Order ${orderId} is not stored (yet)`);
    if (!order.customer_email) return;
    // Claimed before it is sent: two deliveries of one event that overlap send one mail.
    const claim = await store.claimNotification(orderId, eventId, clock(), claimMs);
    if (claim === 'done') return;
    if (claim === 'busy') throw new MailInProgressError(eventId);
    const mail = customerMail(order, status, shopUrl);
    await send(orderId, eventId, ses.send(
      new SendEmailCommand({
        FromEmailAddress: from,
        Destination: { ToAddresses: [order.customer_email] },
        Content: { Simple: { Subject: { Data: mail.subject, Charset: 'UTF-8' }, Body: { Text: { Data: mail.text, Charset: 'UTF-8' }, Html: { Data: mail.html, Charset: 'UTF-8' } } } },
        // SES tag values allow letters, digits, _ and -; the local SES writes one mail per event_id.
        EmailTags: [{ Name: 'event_id', Value: eventId.replace(/[^A-Za-z0-9_-]/g, '_') }, { Name: 'status', Value: status }],
      }),
    ));
    await store.markNotified(orderId, eventId);
    logger.info('Customer mailed', { order_id: orderId, status, event_id: eventId });
  }

  return async function notifyCustomer(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    processor.register(event.Records, async (record: SQSRecord) => {
      try {
        await notify(record);
      } catch (error) {
        logger.error('Customer mail failed; SQS will redeliver it', { message_id: record.messageId, error: error as Error });
        throw error;
      }
    }, { context, throwOnFullBatchFailure: false });
    await processor.process();
    return processor.response();
  };
}

export const configSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(3)),
  MAIL_FROM: z.email(),
  // Empty until the web tier's address is known (its own stack): the mails then go without a link.
  SHOP_URL: z.optional(z.union([z.literal(''), z.pipe(z.url({ protocol: /^https?$/ }), z.transform((url) => url.replace(/\/+$/, '')))])),
});

export const wire: Wiring<'documents' | 'ses', LambdaHandler<SQSEvent, SQSBatchResponse>> = (env, { documents, ses }, options = {}) => {
  const config = parseConfig(configSchema, env, 'notify-customer');
  const { logger, tracer } = observabilityFor('notify-customer', env, options);
  const handler = createNotifyCustomerHandler({ store: createOrderStore({ documents, tableName: config.TABLE_NAME }), ses, from: config.MAIL_FROM, shopUrl: config.SHOP_URL || undefined, logger });
  return instrumented('notify-customer', { tracer }, handler);
};
