import { GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { simpleParser, type ParsedMail } from 'mailparser';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueueRef } from '../../local/resources.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.js';

/**
 * The per-client limits of a second and of the account forms, raised: a test's customers all come
 * from 127.0.0.1, one client to the web tier. Per-address limits stay as they are.
 * test/integration/accounts-abuse.test.ts checks the limits as a shop has them.
 */
export const MANY_CUSTOMERS_WEB_ENV = { CODE_MAIL_CLIENT_MAX: '10000', CODE_ATTEMPT_CLIENT_MAX: '10000', RATE_LIMIT_BURST_MAX: '100000', CONFIRM_ANSWER_FLOOR_MS: '0' };

/** A local stack on free ports with its own state folder, fast profile, quiet logs. */
export async function startTestStack(options: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'orders-test-')));
  return startLocalStack({ profile: 'fast', logLevel: 'silent', ...options, webEnv: { ...MANY_CUSTOMERS_WEB_ENV, ...options.webEnv }, stateDir });
}

export async function queueDepth(stack: LocalStack, queue: QueueRef): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

export function getStoredOrder(stack: LocalStack, orderId: string) {
  return stack.store.get(orderId);
}

/** Every mail in the outbox, parsed, oldest first. */
export async function readOutbox(stack: LocalStack): Promise<(ParsedMail & { file: string })[]> {
  const files = (await readdir(stack.mailDir).catch(() => [])).filter((file) => file.endsWith('.eml')).sort();
  return Promise.all(files.map(async (file) => ({ ...(await simpleParser(await readFile(join(stack.mailDir, file)))), file })));
}

/** Receives and deletes every message of a queue (the DLQ, say). */
export async function drainQueue(stack: LocalStack, queue: QueueRef): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

export function apiRequest(stack: LocalStack, path: string, init: RequestInit & { apiKey?: string | null } = {}) {
  const { apiKey = stack.apiKey, headers, ...rest } = init;
  return fetch(`${stack.urls.api}${path}`, {
    ...rest,
    headers: { ...(apiKey === null ? {} : { 'x-api-key': apiKey }), ...(headers as Record<string, string>) },
  });
}

export const SEED_ORDER = { customer_id: '001', product_id: 'Banana', quantity: '1', order_date: '2025-04-25' };

/**
 * An order as a release before lines carried their price queued it: process-order prices it from the
 * catalogue it is given, so it fails while its product is not there (a poison message a test can cure).
 */
export function unpricedOrder<T extends { lines: { product_id: string; quantity: number }[] }>(order: T): T {
  return { ...order, lines: order.lines.map(({ product_id, quantity }) => ({ product_id, quantity })) };
}

/** The URL of a port nothing listens on: a dependency that is down. */
export async function unreachableUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
