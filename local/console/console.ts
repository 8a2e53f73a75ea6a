import ejs from 'ejs';
import express, { type Request, type Response } from 'express';
import helmet from 'helmet';
import { simpleParser } from 'mailparser';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { formatPrice } from '../../domain/catalogue.js';
import { isOrderId } from '../../domain/order.js';
import { createOrderStore } from '../../backend-lambdas/lib/order-store.js';
import { serverUrl, startServer, stopServer } from '../../frontend/lifecycle.js';
import { isFinal, isOrderStatus, type OrderStatus } from '../../domain/lifecycle.js';
import { isAllowedHost, type HostRule } from '../../frontend/request-origin.js';
import { strictContentSecurityPolicy } from '../../frontend/security-headers.js';
import type { FunctionName } from '../../platform/functions.js';
import type { AlarmEvaluator } from '../alarm.js';
import type { LocalClients } from '../clients.js';
import type { QueueInspection } from '../emulators.js';
import { orderIdOf, redriveDeadLetters } from '../../ops/dead-letters.js';
import type { MetricsTally } from '../observability.js';
import type { LocalResources } from '../resources.js';

export interface ConsoleDeps {
  clients: LocalClients;
  resources: LocalResources;
  alarm: AlarmEvaluator;
  /** The queue emulator's own inspection: every message with its receive count, none received. */
  inspectQueue: (name: string) => QueueInspection | undefined;
  mailDir: string;
  logger: Logger;
  /** The functions' business metrics, summed as CloudWatch would. */
  metrics: MetricsTally;
  /** Invokes a function, as `aws lambda invoke` does: the kitchen takes staff commands. */
  invoke: (name: FunctionName, event: unknown) => Promise<unknown>;
  /** The Host names the console answers to. */
  hosts: readonly HostRule[];
}

const MAX_ORDERS = 20;
const MAX_MAILS = 30;
const MAIL_FILE = /^[\w.-]+\.eml$/;

/** An order as the console shows it: text for every cell, whatever its item holds. */
interface OrderRow {
  order_id: string;
  received_at: string;
  customer_id: string;
  /** "2 x Pizza Margherita, 1 x Cola". */
  items: string;
  total: string;
  status: string;
  canAdvance: boolean;
  canCancel: boolean;
  /** What of the item could not be read; the rest of the row, and the page, are shown anyway. */
  problem?: string;
}

/** A table item as a row: an item written by hand or by an older version cannot break the page. */
export function orderRow(item: Record<string, unknown>): OrderRow {
  const bad: string[] = [];
  const text = (name: string) => {
    const value = item[name];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    bad.push(name);
    return '?';
  };
  const orderId = text('order_id');
  const receivedAt = typeof item.received_at === 'string' ? item.received_at : (bad.push('received_at'), '');
  const customerId = text('customer_id');
  const lines = Array.isArray(item.lines) ? (item.lines as unknown[]) : [];
  const readable = lines.filter((line): line is { quantity: number; product_name: string } => {
    const candidate = line as { quantity?: unknown; product_name?: unknown } | null;
    return typeof candidate?.quantity === 'number' && typeof candidate.product_name === 'string';
  });
  if (lines.length === 0 || readable.length !== lines.length) bad.push('lines');
  const items = readable.map((line) => `${line.quantity} x ${line.product_name}`).join(', ') || '?';
  let total = '?';
  if (typeof item.total_cents === 'number' && typeof item.currency === 'string') {
    try {
      total = formatPrice(item.total_cents, item.currency);
    } catch {
      bad.push('currency');
    }
  } else {
    bad.push('total_cents');
  }
  const status = text('status');
  if (!isOrderStatus(item.status) && !bad.includes('status')) bad.push('status');
  const actionable = isOrderId(orderId) && isOrderStatus(item.status);
  return {
    order_id: orderId,
    received_at: receivedAt,
    customer_id: customerId,
    items,
    total,
    status,
    canAdvance: actionable && !isFinal(item.status as OrderStatus),
    canCancel: actionable && item.status === 'RECEIVED',
    ...(bad.length > 0 ? { problem: `unreadable: ${bad.join(', ')}` } : {}),
  };
}

/**
 * The local console: the local cloud on one page (queues, DLQ, alarm, orders, mail), for the local
 * stack only. It reads the emulators directly and never becomes part of the deployed web tier.
 */
export function createConsoleApp({ clients, resources, alarm, metrics, inspectQueue, mailDir, logger, invoke, hosts }: ConsoleDeps) {
  const app = express();
  const store = createOrderStore({ documents: clients.documents, tableName: resources.tableName });
  // A token per start, in the page's form: another site cannot make a browser post a redrive here.
  const csrfToken = randomBytes(16).toString('hex');
  app.engine('ejs', (path, data, callback) => ejs.renderFile(path, data, callback));
  app.set('views', fileURLToPath(new URL('./views', import.meta.url)));
  app.set('view engine', 'ejs');
  app.set('view cache', true);
  app.disable('x-powered-by');
  // Only at the names it is served under: a page on another name that points at 127.0.0.1 (DNS
  // rebinding) would otherwise read this page, its token included.
  app.use((req, res, next) => {
    if (isAllowedHost(req.headers.host, hosts, req.socket.localPort)) return next();
    res.status(403).type('text').send('Forbidden: the console answers only at 127.0.0.1, localhost or ALLOWED_HOSTS.');
  });
  app.use(
    helmet({
      contentSecurityPolicy: strictContentSecurityPolicy,
      strictTransportSecurity: false,
      // Its own forms must carry its Origin (the posts are refused without it); under helmet's
      // default no-referrer a browser sends `Origin: null` instead. Other sites still get no referrer.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use('/static', express.static(fileURLToPath(new URL('./public', import.meta.url)), { index: false, fallthrough: false }));

  async function readState() {
    const watched = [resources.queue, resources.deadLetterQueue];
    const inspected = watched.map((queue) => {
      const inspection = inspectQueue(queue.name);
      if (!inspection) throw new Error(`the queue ${queue.name} does not exist`);
      return inspection;
    });
    const queues = watched.map((queue, i) => {
      const { messages } = inspected[i]!;
      return { name: queue.name, visible: messages.ready.length, inFlight: messages.inflight.length, delayed: messages.delayed.length };
    });
    const dlq = inspected[1]!;
    const now = Date.now();
    const deadLetters = [...dlq.messages.ready, ...dlq.messages.inflight.map((entry) => entry.message)].map((message) => ({
      messageId: message.messageId,
      orderId: orderIdOf(message.body),
      body: message.body,
      receiveCount: message.approximateReceiveCount,
      ageSeconds: Math.round((now - message.sentTimestamp) / 1000),
    }));

    const items = await store.all();
    const orders = items.map((item) => orderRow(item as unknown as Record<string, unknown>)).sort((a, b) => b.received_at.localeCompare(a.received_at)).slice(0, MAX_ORDERS);

    const files = (await readdir(mailDir).catch(() => [] as string[])).filter((file) => MAIL_FILE.test(file)).sort().reverse().slice(0, MAX_MAILS);
    const mails = await Promise.all(
      files.map(async (file) => {
        try {
          const mail = await simpleParser(await readFile(join(mailDir, file)));
          return { file, subject: mail.subject ?? '(no subject)', from: mail.from?.text ?? '', to: Array.isArray(mail.to) ? mail.to.map((to) => to.text).join(', ') : (mail.to?.text ?? ''), date: mail.date?.toISOString() ?? '', text: mail.text ?? '' };
        } catch (error) {
          // One mail that cannot be read (removed meanwhile, say) is shown as such; the page still shows the rest.
          return { file, subject: '(this mail could not be read)', from: '', to: '', date: '', text: (error as Error).message };
        }
      }),
    );

    return {
      queues,
      deadLetters,
      alarm: { name: alarm.name, state: alarm.state, history: [...alarm.history].reverse() },
      metrics: Object.entries(metrics.counts()).sort(([a], [b]) => a.localeCompare(b)),
      orders,
      orderCount: items.length,
      mails,
      updatedAt: new Date().toISOString(),
    };
  }

  app.get('/', async (req: Request, res: Response) => {
    const state = await readState();
    res.set('Cache-Control', 'no-store');
    res.render(req.query.partial === '1' ? 'state' : 'console', { ...state, csrfToken, notice: typeof req.query.notice === 'string' ? req.query.notice.slice(0, 200) : '' });
  });

  app.get('/api/state', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await readState());
  });

  const form = express.urlencoded({ extended: false, limit: '1kb' });
  /** A post from the console's own page: its Origin is this console's, and it carries this start's token. */
  function fromConsolePage(req: Request, res: Response): boolean {
    const sameOrigin = req.headers.origin !== undefined && req.headers.origin === `http://${req.headers.host}`;
    const submitted = (req.body as { csrf?: unknown } | undefined)?.csrf;
    const token = Buffer.from(typeof submitted === 'string' ? submitted : '');
    const expected = Buffer.from(csrfToken);
    if (sameOrigin && token.length === expected.length && timingSafeEqual(token, expected)) return true;
    logger.warn({ origin: req.headers.origin, path: req.path }, 'console post refused: not from the console page');
    res.status(403).type('text').send('Forbidden: only the console page itself can do this. Reload the console and try again.');
    return false;
  }
  const back = (res: Response, notice: string) => res.redirect(303, `/?notice=${encodeURIComponent(notice)}`);

  // Staff actions go through the kitchen function, as `aws lambda invoke` does on AWS: one code path.
  app.post('/orders/:id/:action', form, async (req, res) => {
    if (!fromConsolePage(req, res)) return;
    const { id, action } = req.params;
    if (!isOrderId(id) || (action !== 'advance' && action !== 'cancel')) {
      res.status(404).type('text').send('Not found');
      return;
    }
    const result = (await invoke('advance-orders', { action, order_id: id, by: 'the local console' })) as { ok: boolean; to?: string; message?: string };
    logger.info({ order_id: id, action, result }, 'staff command from the console');
    back(res, result.ok ? `Order ${id} is now ${result.to}.` : `Order ${id} was not changed: ${result.message}`);
  });

  app.post('/dlq/redrive', form, async (req, res) => {
    if (!fromConsolePage(req, res)) return;
    const { moved, failed } = await redriveDeadLetters(clients.sqs, { deadLetterUrl: resources.deadLetterQueue.url, queueUrl: resources.queue.url });
    logger.info({ moved, failed }, 'redrive from the console');
    back(res, `Redrove ${moved} message${moved === 1 ? '' : 's'} to ${resources.queue.name}${failed ? `; ${failed} failed and stay in the DLQ` : ''}.`);
  });

  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  app.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    // A request the console cannot take (a form too large, a body it cannot read) is the caller's: keep its 4xx.
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).type('text').send(`The console cannot take this request (${status}).`);
      return;
    }
    logger.error({ err: error }, 'console request failed');
    res.status(500).type('text').send('The console could not read the local cloud; is the stack running?');
  });
  return app;
}

/** The console on its own server (never part of the deployed web tier). */
export async function startConsole(deps: ConsoleDeps, port: number, host: string): Promise<{ url: string; stop(): Promise<void> }> {
  const app = createConsoleApp(deps);
  const server = await startServer(app, port, host);
  return { url: serverUrl(server), stop: () => stopServer(app, server, 1000) };
}
