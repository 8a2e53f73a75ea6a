// fauxqs's stores, made here so the local stack can hand them to buildApp. buildApp takes
// `stores` (its typed option) but fauxqs 1.9 exports neither the store classes nor MessageSpy by
// name, and startFauxqs, which makes them, always listens on every interface. So this is the one
// place that reaches into the package's files; it checks the version it was written against.
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

const SUPPORTED_VERSION = /^1\.9\./;
let loading: Promise<FauxqsInternals> | undefined;

/** The installed fauxqs's folder, found the way Node finds the package. */
function packageDir(): string {
  const candidates = (createRequire(import.meta.url).resolve.paths('fauxqs') ?? []).map((base) => join(base, 'fauxqs'));
  const dir = candidates.find((candidate) => existsSync(join(candidate, 'package.json')));
  if (!dir) throw new Error('fauxqs is not installed (npm install)');
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  if (!SUPPORTED_VERSION.test(version)) throw new Error(`fauxqs ${version} is installed; local/fauxqs-stores.ts is written for 1.9.x (check its store classes, then this pattern)`);
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
export async function createFauxqsStores(sink: MessageSpySink | undefined): Promise<{ stores: FauxqsStores; spy: MessageSpyReader; createMessage: FauxqsInternals['createMessage'] }> {
  const internals = await (loading ??= load());
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
  return { stores, spy, createMessage: internals.createMessage };
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
