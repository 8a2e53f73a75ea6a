import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import type { MessageSpyReader } from 'fauxqs';
import { mkdir } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isAllowedHost, type HostRule } from '../frontend/request-origin.js';
import { fifoGroupOfBody } from '../domain/order.js';
import { settings } from '../platform/settings.js';
import { continueSequence, createFauxqsStores, observeQueues, putBack, rememberDeduplication, type MessageSpySink, type SqsMessage, type SqsStore } from './fauxqs-stores.js';
import { DEDUPLICATION_WINDOW_MS, QueueJournal, type FifoFields } from './queue-journal.js';

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
  restore(options?: RestoreOptions): RestoreReport;
  /** fauxqs's message spy, for tests that wait for a message event. */
  readonly spy: MessageSpyReader;
}

export interface RestoreReport {
  restored: number;
  expired: number;
  /** Messages of queues that no longer exist (made by hand in an earlier run, say). */
  dropped: number;
  /** Messages of a queue that is gone put into the queue that took its place (QUEUE_TYPE changed). */
  carriedOver: number;
}

export interface RestoreOptions {
  /**
   * Queues that took another's place, old name to new: the orders queue and its DLQ of the other
   * queue type, when QUEUE_TYPE changed since the last run. Their messages go into the new queue,
   * so switching loses none; into a FIFO queue each goes into its customer's group.
   */
  carryOver?: Readonly<Record<string, string>>;
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

/** What the journal is told besides the spy's events: the message being enqueued now, whose FIFO fields the spy leaves out. */
interface Enqueueing {
  message: SqsMessage | undefined;
}

/** A FIFO message's group, deduplication id and sequence number, as fauxqs holds them. */
function fifoFieldsOf(message: SqsMessage | undefined): FifoFields | undefined {
  if (!message?.messageGroupId) return undefined;
  return { groupId: message.messageGroupId, deduplicationId: message.messageDeduplicationId ?? message.messageId, sequenceNumber: message.sequenceNumber };
}

/** Journals what the stores report: a message accepted, deleted or moved to the DLQ. */
function journalRecorder(journal: QueueJournal, enqueueing: Enqueueing): MessageSpySink & { paused: boolean } {
  // The message the last 'dlq' event was about: its 'published' on the DLQ that follows is a move, not a send.
  let moving: string | undefined;
  return {
    paused: false,
    addMessage(message) {
      // The web processes' event queues are made at their start and removed at their stop, on AWS too: nothing of them outlives a run.
      if (message.service !== 'sqs' || this.paused || message.queueName.startsWith(settings.names.webEventQueuePrefix)) return;
      if (message.status === 'published') {
        const enqueued = enqueueing.message?.messageId === message.messageId ? enqueueing.message : undefined;
        const sent = moving !== message.messageId;
        moving = undefined;
        journal.put(message.queueName, { id: message.messageId, body: message.body, attributes: message.messageAttributes, sentAt: message.timestamp, fifo: fifoFieldsOf(enqueued) }, { sent });
      } else {
        // 'consumed' (deleted) or 'dlq' (moved: the DLQ's own 'published' follows with the same id).
        if (message.status === 'dlq') moving = message.messageId;
        journal.delete(message.queueName, message.messageId);
      }
    },
  };
}

/** fauxqs on its own stores, behind the emulator guard, listening. */
async function listenQueueApp(host: string, port: number, hosts: readonly HostRule[], recorder: MessageSpySink | undefined, journal: QueueJournal | undefined, enqueueing: Enqueueing) {
  const { stores, spy } = await createFauxqsStores(recorder);
  if (journal) {
    observeQueues(stores.sqsStore, {
      enqueue(message, next) {
        // fauxqs calls the spy synchronously inside enqueue: the recorder sees this message while it is set.
        enqueueing.message = message;
        try {
          next();
        } finally {
          enqueueing.message = undefined;
        }
      },
      dropped: (queueName) => journal.purge(queueName),
    });
  }
  // buildApp rather than startFauxqs: the latter always binds every interface.
  const app = buildApp({ logger: false, host: 'localhost', stores });
  app.addHook('onRequest', (request, reply, done) => {
    const reason = emulatorRefusal(request.headers, hosts, request.raw.socket.localPort);
    if (!reason) return done();
    void reply.code(403).header('content-type', 'text/plain; charset=utf-8').header('connection', 'close').send(`Forbidden. ${reason}\n`);
  });
  await app.listen({ port, host });
  return { app, stores, spy };
}

/**
 * SQS and SNS on one endpoint (fauxqs). With a journal file its queues are durable: every message
 * is journaled before SendMessage (or Publish) answers, and `restore` puts back what was left.
 */
export async function startQueueEmulator(host: string, port: number, { logger, hosts, journalFile }: EmulatorOptions & { journalFile?: string | undefined }): Promise<QueueEmulator> {
  const journal = journalFile ? QueueJournal.open(journalFile, { logger }) : undefined;
  const enqueueing: Enqueueing = { message: undefined };
  const recorder = journal ? journalRecorder(journal, enqueueing) : undefined;
  let started: Awaited<ReturnType<typeof listenQueueApp>>;
  try {
    started = await listenQueueApp(host, port, hosts, recorder, journal, enqueueing);
  } catch (error) {
    // Not started: the journal is closed as it was read, and its lock freed.
    journal?.close();
    throw error;
  }
  const { app, stores, spy } = started;
  const { port: actualPort } = app.server.address() as AddressInfo;
  let restored = false;
  return {
    endpoint: `http://${host}:${actualPort}`,
    spy,
    inspectQueue: (name) => stores.sqsStore.inspectQueue(name),
    restore({ carryOver = {} } = {}) {
      const report: RestoreReport = { restored: 0, expired: 0, dropped: 0, carriedOver: 0 };
      if (!journal || !recorder || restored) return report;
      restored = true;
      const now = Date.now();
      // The journal already holds these: putting them back must not journal them again.
      recorder.paused = true;
      try {
        for (const [name, messages] of journal.messages()) {
          const into = stores.sqsStore.getQueueByName(name) ? name : carryOver[name];
          const queue = into === undefined ? undefined : stores.sqsStore.getQueueByName(into);
          if (!queue || into === undefined) {
            journal.purge(name);
            report.dropped += messages.length;
            continue;
          }
          const retentionMs = Number(queue.attributes.MessageRetentionPeriod) * 1000;
          const fifo = queue.isFifo();
          for (const kept of messages) {
            if (now - kept.sentAt > retentionMs) {
              journal.delete(name, kept.id);
              report.expired++;
              continue;
            }
            // A message carried over from a standard queue has no group yet: its customer's, as submit-order would give it.
            const fields: FifoFields | undefined = fifo ? (kept.fifo ?? { groupId: fifoGroupOfBody(kept.body, 'restored'), deduplicationId: kept.id }) : undefined;
            // Same id and sent time as before.
            putBack(queue, { ...kept, fifo: fields });
            if (into === name) {
              report.restored++;
            } else {
              journal.delete(name, kept.id);
              journal.put(into, { ...kept, fifo: fields });
              report.carriedOver++;
            }
          }
          if (fifo && into === name) {
            // Still a duplicate within five minutes of its send, as SQS would have answered; and numbers keep rising.
            for (const deduplication of journal.deduplications(name, now)) rememberDeduplication(queue, deduplication.id, deduplication.messageId, deduplication.sequenceNumber, deduplication.at, DEDUPLICATION_WINDOW_MS);
            const last = journal.lastSequenceNumber(name);
            if (last !== undefined) continueSequence(queue, last);
          }
        }
      } finally {
        recorder.paused = false;
      }
      journal.compact();
      if (report.dropped > 0) logger.warn({ dropped: report.dropped }, 'queue journal: messages of queues that no longer exist were dropped');
      if (report.carriedOver > 0) logger.warn({ carriedOver: report.carriedOver, into: carryOver }, 'queue journal: messages of the queues of the other queue type were put into this one\'s (QUEUE_TYPE changed)');
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
