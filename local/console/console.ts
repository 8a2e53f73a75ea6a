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
import type { FunctionName } from '../../platform/functions.js';
import type { AlarmEvaluator } from '../alarm.js';
import type { LocalClients } from '../clients.js';
import { orderIdOf, redriveDeadLetters } from '../../ops/dead-letters.js';
import type { MetricsTally } from '../observability.js';
import type { LocalResources } from '../resources.js';

export interface ConsoleDeps {
  clients: LocalClients;
  resources: LocalResources;
  alarm: AlarmEvaluator;
  /** The emulator's endpoint: its /_fauxqs routes show messages without receiving them. */
  queueEndpoint: string;
  mailDir: string;
  logger: Logger;
  /** The functions' business metrics, summed as CloudWatch would. */
  metrics: MetricsTally;
  /** Invokes a function, as `aws lambda invoke` does: the kitchen takes staff commands. */
  invoke: (name: FunctionName, event: unknown) => Promise<unknown>;
}

interface InspectedMessage {
  messageId: string;
  body: string;
  sentTimestamp: number;
  approximateReceiveCount: number;
}
interface InspectedQueue {
  messages: { ready: InspectedMessage[]; delayed: InspectedMessage[]; inflight: { message: InspectedMessage }[] };
}

const MAX_ORDERS = 20;
const MAX_MAILS = 30;
const MAIL_FILE = /^[\w.-]+\.eml$/;

async function inspectQueue(endpoint: string, name: string): Promise<InspectedQueue> {
  const response = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
  if (!response.ok) throw new Error(`cannot inspect ${name}: ${response.status}`);
  return (await response.json()) as InspectedQueue;
}

/**
 * The local console: the local cloud on one page (queues, DLQ, alarm, orders, mail), for the local
 * stack only. It reads the emulators directly and never becomes part of the deployed web tier.
 */
export function createConsoleApp({ clients, resources, alarm, metrics, queueEndpoint, mailDir, logger, invoke }: ConsoleDeps) {
  const app = express();
  const store = createOrderStore({ documents: clients.documents, tableName: resources.tableName });
  // A token per start, in the page's form: another site cannot make a browser post a redrive here.
  const csrfToken = randomBytes(16).toString('hex');
  app.engine('ejs', (path, data, callback) => ejs.renderFile(path, data, callback));
  app.set('views', fileURLToPath(new URL('./views', import.meta.url)));
  app.set('view engine', 'ejs');
  app.set('view cache', true);
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      strictTransportSecurity: false,
    }),
  );
  app.use('/static', express.static(fileURLToPath(new URL('./public', import.meta.url)), { index: false, fallthrough: false }));

  async function readState() {
    const watched = [resources.queue, resources.deadLetterQueue];
    const inspected = await Promise.all(watched.map((queue) => inspectQueue(queueEndpoint, queue.name)));
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
    const orders = items.sort((a, b) => b.received_at.localeCompare(a.received_at)).slice(0, MAX_ORDERS);

    const files = (await readdir(mailDir).catch(() => [] as string[])).filter((file) => MAIL_FILE.test(file)).sort().reverse().slice(0, MAX_MAILS);
    const mails = await Promise.all(
      files.map(async (file) => {
        const mail = await simpleParser(await readFile(join(mailDir, file)));
        return { file, subject: mail.subject ?? '(no subject)', from: mail.from?.text ?? '', to: Array.isArray(mail.to) ? mail.to.map((to) => to.text).join(', ') : (mail.to?.text ?? ''), date: mail.date?.toISOString() ?? '', text: mail.text ?? '' };
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
    res.render(req.query.partial === '1' ? 'state' : 'console', { ...state, csrfToken, formatPrice, notice: typeof req.query.notice === 'string' ? req.query.notice.slice(0, 200) : '' });
  });

  app.get('/api/state', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await readState());
  });

  const form = express.urlencoded({ extended: false, limit: '1kb' });
  function hasToken(req: Request, res: Response): boolean {
    const submitted = (req.body as { csrf?: unknown } | undefined)?.csrf;
    const token = Buffer.from(typeof submitted === 'string' ? submitted : '');
    const expected = Buffer.from(csrfToken);
    if (token.length === expected.length && timingSafeEqual(token, expected)) return true;
    res.status(403).send('Forbidden: reload the console and try again.');
    return false;
  }
  const back = (res: Response, notice: string) => res.redirect(303, `/?notice=${encodeURIComponent(notice)}`);

  // Staff actions go through the kitchen function, as `aws lambda invoke` does on AWS: one code path.
  app.post('/orders/:id/:action', form, async (req, res) => {
    if (!hasToken(req, res)) return;
    const { id, action } = req.params;
    if (!isOrderId(id) || (action !== 'advance' && action !== 'cancel')) {
      res.status(404).type('text').send('Not found');
      return;
    }
    const result = (await invoke('advance-orders', { action, order_id: id })) as { ok: boolean; to?: string; message?: string };
    logger.info({ order_id: id, action, result }, 'staff command from the console');
    back(res, result.ok ? `Order ${id} is now ${result.to}.` : `Order ${id} was not changed: ${result.message}`);
  });

  app.post('/dlq/redrive', form, async (req, res) => {
    if (!hasToken(req, res)) return;
    const { moved, failed } = await redriveDeadLetters(clients.sqs, { deadLetterUrl: resources.deadLetterQueue.url, queueUrl: resources.queue.url });
    logger.info({ moved, failed }, 'redrive from the console');
    back(res, `Redrove ${moved} message${moved === 1 ? '' : 's'} to ${resources.queue.name}${failed ? `; ${failed} failed and stay in the DLQ` : ''}.`);
  });

  app.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  app.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
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
