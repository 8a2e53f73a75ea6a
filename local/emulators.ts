import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import type { MessageSpyReader } from 'fauxqs';
import { mkdir } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isAllowedHost, type HostRule } from '../frontend/request-origin.js';
import { createFauxqsStores, type MessageSpySink, type SqsStore } from './fauxqs-stores.js';
import { QueueJournal } from './queue-journal.js';

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** What a queue holds, without receiving anything (fauxqs's own inspection). */
export type QueueInspection = NonNullable<ReturnType<SqsStore['inspectQueue']>>;

export interface QueueEmulator extends Emulator {
  /** The queue's messages, ready, delayed and in flight, with their receive counts; no receive is made. */
  inspectQueue(name: string): QueueInspection | undefined;
  /**
   * Puts back the messages the journal holds into the queues that now exist (call it once the
   * resources are made, before anything polls). Messages of queues that are gone are dropped, and
   * so are those older than their queue's retention period, as SQS would have deleted them.
   */
  restore(): RestoreReport;
  /** fauxqs's message spy, for tests that wait for a message event. */
  readonly spy: MessageSpyReader;
}

export interface RestoreReport {
  restored: number;
  expired: number;
  /** Messages of queues that no longer exist (made by hand in an earlier run, say). */
  dropped: number;
}

export interface EmulatorOptions {
  logger: Logger;
  /** The Host names the emulator answers to (ALLOWED_HOSTS and loopback). */
  hosts: readonly HostRule[];
}

/**
 * Why a request to an emulator is refused, or undefined. Only what an AWS SDK or CLI sends gets
 * through: SigV4-signed, no Origin (a browser adds one to every cross-origin request, and its
 * preflight), at a local host name (DNS rebinding). A form post from a web page has none of that.
 */
export function emulatorRefusal(headers: IncomingHttpHeaders, hosts: readonly HostRule[], localPort: number | undefined): string | undefined {
  if (headers.origin !== undefined) return 'Requests from web pages (with an Origin header) are refused: this emulator is for AWS SDKs and the aws CLI.';
  if (!/^AWS4-HMAC-SHA256 /.test(headers.authorization ?? '')) return 'Only SigV4-signed requests are accepted (an AWS SDK or the aws CLI, any credentials).';
  if (!isAllowedHost(headers.host, hosts, localPort)) return `Host ${headers.host ?? '(none)'} is not a local host name (see ALLOWED_HOSTS).`;
  return undefined;
}

function refuse(res: ServerResponse, reason: string): void {
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`Forbidden. ${reason}\n`);
}

/** Journals what the stores report: a message accepted, deleted or moved to the DLQ. */
function journalRecorder(journal: QueueJournal): MessageSpySink & { paused: boolean } {
  return {
    paused: false,
    addMessage(message) {
      if (message.service !== 'sqs' || this.paused) return;
      if (message.status === 'published') {
        journal.put(message.queueName, { id: message.messageId, body: message.body, attributes: message.messageAttributes, sentAt: message.timestamp });
      } else {
        // 'consumed' (deleted) or 'dlq' (moved: the DLQ's own 'published' follows with the same id).
        journal.delete(message.queueName, message.messageId);
      }
    },
  };
}

/** PurgeQueue and DeleteQueue drop messages without a spy event: journal them as the queue does them. */
function journalPurges(sqsStore: SqsStore, journal: QueueJournal): void {
  const createQueue = sqsStore.createQueue.bind(sqsStore);
  sqsStore.createQueue = (...args) => {
    const queue = createQueue(...args);
    const purge = queue.purge.bind(queue);
    queue.purge = () => {
      journal.purge(queue.name);
      purge();
    };
    return queue;
  };
  const deleteQueue = sqsStore.deleteQueue.bind(sqsStore);
  sqsStore.deleteQueue = (url) => {
    const queue = sqsStore.getQueue(url);
    if (queue) journal.purge(queue.name);
    return deleteQueue(url);
  };
}

/** fauxqs on its own stores, behind the emulator guard, listening. */
async function listenQueueApp(host: string, port: number, hosts: readonly HostRule[], recorder: MessageSpySink | undefined, journal: QueueJournal | undefined) {
  const { stores, spy, createMessage } = await createFauxqsStores(recorder);
  if (journal) journalPurges(stores.sqsStore, journal);
  // buildApp rather than startFauxqs: the latter always binds every interface.
  const app = buildApp({ logger: false, host: 'localhost', stores });
  app.addHook('onRequest', (request, reply, done) => {
    const reason = emulatorRefusal(request.headers, hosts, request.raw.socket.localPort);
    if (!reason) return done();
    void reply.code(403).header('content-type', 'text/plain; charset=utf-8').header('connection', 'close').send(`Forbidden. ${reason}\n`);
  });
  await app.listen({ port, host });
  return { app, stores, spy, createMessage };
}

/**
 * SQS and SNS on one endpoint (fauxqs). With a journal file its queues are durable: every message
 * is journaled before SendMessage (or Publish) answers, and `restore` puts back what was left.
 */
export async function startQueueEmulator(host: string, port: number, { logger, hosts, journalFile }: EmulatorOptions & { journalFile?: string | undefined }): Promise<QueueEmulator> {
  const journal = journalFile ? QueueJournal.open(journalFile, { logger }) : undefined;
  const recorder = journal ? journalRecorder(journal) : undefined;
  let started: Awaited<ReturnType<typeof listenQueueApp>>;
  try {
    started = await listenQueueApp(host, port, hosts, recorder, journal);
  } catch (error) {
    // Not started: the journal is closed as it was read, and its lock freed.
    journal?.close();
    throw error;
  }
  const { app, stores, spy, createMessage } = started;
  const { port: actualPort } = app.server.address() as AddressInfo;
  let restored = false;
  return {
    endpoint: `http://${host}:${actualPort}`,
    spy,
    inspectQueue: (name) => stores.sqsStore.inspectQueue(name),
    restore() {
      const report: RestoreReport = { restored: 0, expired: 0, dropped: 0 };
      if (!journal || !recorder || restored) return report;
      restored = true;
      const now = Date.now();
      // The journal already holds these: putting them back must not journal them again.
      recorder.paused = true;
      try {
        for (const [name, messages] of journal.messages()) {
          const queue = stores.sqsStore.getQueueByName(name);
          if (!queue) {
            journal.purge(name);
            report.dropped += messages.length;
            continue;
          }
          const retentionMs = Number(queue.attributes.MessageRetentionPeriod) * 1000;
          for (const kept of messages) {
            if (now - kept.sentAt > retentionMs) {
              journal.delete(name, kept.id);
              report.expired++;
              continue;
            }
            // Same id and sent time as before; receive counts start again (receives are not journaled).
            const message = createMessage(kept.body, kept.attributes);
            message.messageId = kept.id;
            message.sentTimestamp = kept.sentAt;
            queue.enqueue(message);
            report.restored++;
          }
        }
      } finally {
        recorder.paused = false;
      }
      journal.compact();
      if (report.dropped > 0) logger.warn({ dropped: report.dropped }, 'queue journal: messages of queues that no longer exist were dropped');
      return report;
    },
    async stop() {
      await app.close();
      journal?.close();
    },
  };
}

/** Lets `hosts` through to a request listener and refuses the rest, as emulatorRefusal says. */
function guarded(listener: (req: IncomingMessage, res: ServerResponse) => void, hosts: readonly HostRule[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const reason = emulatorRefusal(req.headers, hosts, req.socket.localPort);
    if (reason) {
      req.resume();
      return refuse(res, reason);
    }
    listener(req, res);
  };
}

/** DynamoDB (dynalite), kept on disk under `dataDir` so orders survive a restart. */
export async function startTableEmulator(host: string, port: number, dataDir: string, { hosts }: EmulatorOptions): Promise<Emulator> {
  await mkdir(dataDir, { recursive: true });
  const server: Server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite answers any Origin with Access-Control-Allow-Origin: *; such requests never reach it now.
  const [listener] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', guarded(listener!, hosts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actualPort } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${actualPort}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** An emulator that can be stopped and started again on the same port, for fault tests. */
export interface RestartableEmulator<E extends Emulator> extends Emulator {
  readonly running: boolean;
  /** The emulator now running; throws while it is stopped. */
  readonly current: E;
  start(): Promise<void>;
}

export async function restartable<E extends Emulator>(startOn: (port: number) => Promise<E>, port: number): Promise<RestartableEmulator<E>> {
  let current: E | undefined = await startOn(port);
  const endpoint = current.endpoint;
  const fixedPort = Number(new URL(endpoint).port);
  return {
    endpoint,
    get running() {
      return current !== undefined;
    },
    get current() {
      if (!current) throw new Error(`the emulator at ${endpoint} is stopped`);
      return current;
    },
    async start() {
      current ??= await startOn(fixedPort);
    },
    async stop() {
      const stopping = current;
      current = undefined;
      await stopping?.stop();
    },
  };
}
