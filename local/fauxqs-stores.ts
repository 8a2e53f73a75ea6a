// The one adapter between the local stack and fauxqs's insides; test/unit/fauxqs-adapter.test.ts
// fails when fauxqs changes under it. buildApp takes `stores` (its typed option), but fauxqs 2
// exports neither the store classes nor MessageSpy, and startFauxqs, which makes them, always
// listens on every interface. fauxqs's own persistence (startFauxqs's dataDir) forgets FIFO
// deduplication across a restart and halves throughput (docs/local-stack.md, measured), so the
// queue journal keeps the queues, and needs what fauxqs has no public way to give: every enqueue
// with its FIFO fields, purges, a message put back with its id and send time, a deduplication
// window that began before the restart. Nothing else in local/ imports fauxqs's files; the stack
// otherwise calls only the store methods the `stores` option's types declare (getQueueByName, isFifo).
import type { BuildAppOptions, MessageSpyReader, SpyMessage } from 'fauxqs';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type FauxqsStores = NonNullable<BuildAppOptions['stores']>;
export type SqsStore = FauxqsStores['sqsStore'];
export type SqsQueue = NonNullable<ReturnType<SqsStore['getQueueByName']>>;
export type SqsMessage = SqsQueue['messages'][number];
export type MessageAttributes = SqsMessage['messageAttributes'];

/** Who the stores tell of every message event: fauxqs calls it synchronously, before it answers. */
export interface MessageSpySink {
  addMessage(message: SpyMessage): void;
}

interface FauxqsInternals {
  SqsStore: new () => SqsStore;
  SnsStore: new () => FauxqsStores['snsStore'];
  S3Store: new () => FauxqsStores['s3Store'];
  MessageSpy: new (params?: { bufferSize?: number }) => MessageSpyReader & MessageSpySink;
  createMessage: (body: string, attributes?: MessageAttributes, delaySeconds?: number, groupId?: string, deduplicationId?: string) => SqsMessage;
}

const SUPPORTED_VERSION = /^2\.4\./;
let loading: Promise<FauxqsInternals> | undefined;
/** What createFauxqsStores loaded, for putBack's messages. */
let created: FauxqsInternals | undefined;

/** The installed fauxqs's folder, found the way Node finds the package. */
function packageDir(): string {
  const candidates = (createRequire(import.meta.url).resolve.paths('fauxqs') ?? []).map((base) => join(base, 'fauxqs'));
  const dir = candidates.find((candidate) => existsSync(join(candidate, 'package.json')));
  if (!dir) throw new Error('fauxqs is not installed (npm install)');
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  if (!SUPPORTED_VERSION.test(version)) throw new Error(`fauxqs ${version} is installed; local/fauxqs-stores.ts is written for 2.4.x (check its store classes, then this pattern)`);
  return dir;
}

async function load(): Promise<FauxqsInternals> {
  const dir = packageDir();
  const from = async <T>(file: string) => (await import(pathToFileURL(join(dir, 'dist', file)).href)) as T;
  // One at a time: jest's ESM loader fails on modules that share dependencies when imported at once.
  const { SqsStore } = await from<{ SqsStore: FauxqsInternals['SqsStore'] & { createMessage: FauxqsInternals['createMessage'] } }>('sqs/sqsStore.js');
  const { SnsStore } = await from<{ SnsStore: FauxqsInternals['SnsStore'] }>('sns/snsStore.js');
  const { S3Store } = await from<{ S3Store: FauxqsInternals['S3Store'] }>('s3/s3Store.js');
  const { MessageSpy } = await from<{ MessageSpy: FauxqsInternals['MessageSpy'] }>('spy.js');
  return { SqsStore, SnsStore, S3Store, MessageSpy, createMessage: (body, attributes, delaySeconds, groupId, deduplicationId) => SqsStore.createMessage(body, attributes, delaySeconds, groupId, deduplicationId) };
}

/**
 * A new set of fauxqs stores whose events go to `sink` first and then to fauxqs's own message spy
 * (returned as `spy`, for tests). Set up as startFauxqs sets them up with `messageSpies: true`.
 */
export async function createFauxqsStores(sink: MessageSpySink | undefined): Promise<{ stores: FauxqsStores; spy: MessageSpyReader }> {
  const internals = await (loading ??= load());
  created = internals;
  const spy = new internals.MessageSpy({ bufferSize: 100 });
  const recorder: MessageSpySink = sink
    ? {
        addMessage(message) {
          sink.addMessage(message);
          spy.addMessage(message);
        },
      }
    : spy;
  const stores: FauxqsStores = { sqsStore: new internals.SqsStore(), snsStore: new internals.SnsStore(), s3Store: new internals.S3Store() };
  // The spy property is public on each store; startFauxqs assigns it the same way.
  Object.assign(stores.sqsStore, { spy: recorder });
  Object.assign(stores.snsStore, { spy: recorder });
  return { stores, spy };
}

/** What happens to a queue's messages that fauxqs tells no spy of, or tells without their FIFO fields. */
export interface QueueObserver {
  /** Each message as it is enqueued: fauxqs tells the spy inside `next`, which must be called once. */
  enqueue(message: SqsMessage, next: () => void): void;
  /** PurgeQueue and DeleteQueue drop a queue's messages with no spy event. */
  dropped(queueName: string): void;
}

/** Shows `observer` what each queue the store makes from now on does beyond the spy's events. */
export function observeQueues(sqsStore: SqsStore, observer: QueueObserver): void {
  const createQueue = sqsStore.createQueue.bind(sqsStore);
  sqsStore.createQueue = (...args) => {
    const queue = createQueue(...args);
    const enqueue = queue.enqueue.bind(queue);
    queue.enqueue = (message) => observer.enqueue(message, () => enqueue(message));
    const purge = queue.purge.bind(queue);
    queue.purge = () => {
      observer.dropped(queue.name);
      purge();
    };
    return queue;
  };
  const deleteQueue = sqsStore.deleteQueue.bind(sqsStore);
  sqsStore.deleteQueue = (url) => {
    const queue = sqsStore.getQueue(url);
    if (queue) observer.dropped(queue.name);
    return deleteQueue(url);
  };
}

/** A message as it was before a restart: its id, body, attributes, send time and FIFO fields. */
export interface KeptMessage {
  id: string;
  body: string;
  attributes: MessageAttributes;
  sentAt: number;
  fifo?: { groupId: string; deduplicationId: string; sequenceNumber?: string | undefined } | undefined;
}

/** Puts `kept` back into `queue` as it was sent (its receive count starts again: receives are not kept). */
export function putBack(queue: SqsQueue, kept: KeptMessage): void {
  if (!created) throw new Error('putBack before createFauxqsStores');
  const message = created.createMessage(kept.body, kept.attributes, undefined, kept.fifo?.groupId, kept.fifo?.deduplicationId);
  message.messageId = kept.id;
  message.sentTimestamp = kept.sentAt;
  if (kept.fifo?.sequenceNumber) message.sequenceNumber = kept.fifo.sequenceNumber;
  queue.enqueue(message);
}

/** The queue's next sequence number comes after `last`, as SQS's keep rising. */
export function continueSequence(queue: SqsQueue, last: string): void {
  queue.sequenceCounter = Math.max(queue.sequenceCounter, Number(last));
}

/**
 * Makes a FIFO queue refuse a second message with `deduplicationId` until `at` plus SQS's window,
 * answering it with `messageId` and `sequenceNumber`, as it would have had it never restarted.
 * fauxqs's deduplication cache (toad-cache's FifoMap) starts each entry's window when it is set, so
 * the entry's expiry is set back to when the message was sent; the cache is checked to be what this
 * was written against.
 */
export function rememberDeduplication(queue: SqsQueue, deduplicationId: string, messageId: string, sequenceNumber: string | undefined, at: number, windowMs: number): void {
  queue.recordDeduplication(deduplicationId, messageId, sequenceNumber);
  const items = (queue.deduplicationCache as unknown as { items?: Map<string, { expiry: number }> }).items;
  const entry = items instanceof Map ? items.get(deduplicationId) : undefined;
  if (!entry || typeof entry.expiry !== 'number') throw new Error('fauxqs\'s deduplication cache is not the FifoMap local/fauxqs-stores.ts was written for');
  entry.expiry = at + windowMs;
}
