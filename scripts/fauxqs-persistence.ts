// Measures fauxqs's own persistence (startFauxqs's `dataDir`, SQLite) against the bar the local
// stack's queue journal meets (docs/local-stack.md, "What survives a restart"): messages, the DLQ and
// a FIFO group's order across kill -9, FIFO deduplication across a restart, and durable / volatile
// intake and drain, in the same loop as the stack's own queue emulator without and with its journal.
// startFauxqs always listens on every interface, so this runs only inside a network namespace of its
// own, where every interface is loopback:
//   unshare -n sh -c 'ip link set lo up && node --disable-warning=ExperimentalWarning --import tsx scripts/fauxqs-persistence.ts'
// The figures it printed are in docs/local-stack.md.
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFauxqs } from 'fauxqs';
import { pino } from 'pino';
import { LOOPBACK_HOST_NAMES, parseHostRules } from '../frontend/request-origin.js';
import { startQueueEmulator } from '../local/emulators.js';

const MESSAGES = 1_000;
const DLQ_MESSAGES = 10;
const GROUPS = 3;
const PER_GROUP = 5;

async function fill(dataDir: string): Promise<void> {
  const server = await startFauxqs({ port: 0, logger: false, dataDir });
  server.createQueue('orders');
  server.createQueue('orders-dlq');
  server.createQueue('orders.fifo', { attributes: { FifoQueue: 'true' } });
  for (let i = 0; i < MESSAGES; i++) server.sendMessage('orders', `order-${i}`);
  for (let i = 0; i < DLQ_MESSAGES; i++) server.sendMessage('orders-dlq', `dead-${i}`);
  for (let n = 0; n < PER_GROUP; n++) {
    for (let g = 0; g < GROUPS; g++) server.sendMessage('orders.fifo', `g${g}-${n}`, { messageGroupId: `g${g}`, messageDeduplicationId: `d-g${g}-${n}` });
  }
  // One FIFO message received and deleted before the crash: SQS still refuses its deduplication id for 5 minutes.
  const sqs = client(server.port);
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url(server.port, 'orders.fifo'), MaxNumberOfMessages: 1 }));
  await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url(server.port, 'orders.fifo'), Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  process.stdout.write(`filled ${Messages[0]?.Body}\n`);
  await new Promise(() => undefined); // killed with SIGKILL by the parent
}

function client(port: number): SQSClient {
  return new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

function url(port: number, name: string): string {
  return `http://127.0.0.1:${port}/000000000000/${name}`;
}

async function check(dataDir: string, deleted: string): Promise<Record<string, unknown>> {
  const server = await startFauxqs({ port: 0, logger: false, dataDir });
  const count = (name: string) => {
    const q = server.inspectQueue(name);
    return q ? q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length : 'queue gone';
  };
  const before = count('orders.fifo');
  // The deleted message's id again, and one still queued: both are duplicates within SQS's 5 minutes.
  const [g, n] = /^g(\d)-(\d)$/.exec(deleted)!.slice(1);
  server.sendMessage('orders.fifo', deleted, { messageGroupId: `g${g}`, messageDeduplicationId: `d-g${g}-${n}` });
  server.sendMessage('orders.fifo', 'g0-4', { messageGroupId: 'g0', messageDeduplicationId: 'd-g0-4' });
  const after = count('orders.fifo');
  const sqs = client(server.port);
  const order: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url(server.port, 'orders.fifo'), MaxNumberOfMessages: 10 }));
    if (Messages.length === 0) break;
    order.push(...Messages.map((m) => m.Body!));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url(server.port, 'orders.fifo'), Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  const groupsInOrder = [...Array(GROUPS).keys()].every((group) => {
    // Each body's first delivery: a duplicate accepted above comes again at its group's end.
    const bodies = [...new Set(order)].filter((body) => body.startsWith(`g${group}-`) && body !== deleted);
    return bodies.every((body, i) => i === 0 || Number(body.slice(3)) > Number(bodies[i - 1]!.slice(3)));
  });
  const result = {
    ordersKept: `${count('orders')} of ${MESSAGES}`,
    dlqKept: `${count('orders-dlq')} of ${DLQ_MESSAGES}`,
    fifoKept: `${before} of ${GROUPS * PER_GROUP - 1}`,
    fifoDuplicatesAccepted: Number(after) - Number(before),
    fifoGroupsInOrder: groupsInOrder,
  };
  await server.stop();
  return result;
}

/** What a throughput round runs against: an SQS endpoint with one fresh queue, and how to stop it. */
interface Endpoint {
  url: string;
  stop(): Promise<void>;
}

/** The four sides compared: fauxqs in memory and on its dataDir, the stack's queue emulator without and with its journal. */
const SIDES: Record<string, (dir: string) => Promise<Endpoint>> = {
  'fauxqs, in memory': async () => {
    const server = await startFauxqs({ port: 0, logger: false });
    return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
  },
  'fauxqs, dataDir': async (dir) => {
    const server = await startFauxqs({ port: 0, logger: false, dataDir: dir });
    return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
  },
  'queue emulator, volatile': async () => {
    const emulator = await startQueueEmulator('127.0.0.1', 0, { logger: pino({ level: 'silent' }), hosts: parseHostRules([...LOOPBACK_HOST_NAMES]) });
    return { url: emulator.endpoint, stop: () => emulator.stop() };
  },
  'queue emulator, journaled': async (dir) => {
    const emulator = await startQueueEmulator('127.0.0.1', 0, { logger: pino({ level: 'silent' }), hosts: parseHostRules([...LOOPBACK_HOST_NAMES]), journalFile: join(dir, 'journal.ndjson') });
    return { url: emulator.endpoint, stop: () => emulator.stop() };
  },
};

/** Messages a second through SendMessageBatch (batches of 10), then through receive and delete. */
async function throughput(side: string): Promise<{ intake: number; drain: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fauxqs-persistence-'));
  const endpoint = await SIDES[side]!(dir);
  const sqs = new SQSClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'load' }));
  const total = 3_000;
  let start = performance.now();
  for (let i = 0; i < total; i += 10) {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: Array.from({ length: 10 }, (_, j) => ({ Id: String(j), MessageBody: JSON.stringify({ order: i + j, lines: [{ product_id: 'Margherita', quantity: 2 }] }) })) }));
  }
  const intake = total / ((performance.now() - start) / 1000);
  start = performance.now();
  let drained = 0;
  while (drained < total) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    drained += Messages.length;
    if (Messages.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  const drain = total / ((performance.now() - start) / 1000);
  sqs.destroy();
  await endpoint.stop();
  rmSync(dir, { recursive: true, force: true });
  return { intake, drain };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const [mode, dataDir] = process.argv.slice(2);
  if (mode === 'fill') return fill(dataDir!);
  const { version } = JSON.parse(readFileSync(new URL('../node_modules/fauxqs/package.json', import.meta.url), 'utf8')) as { version: string };
  const runs: Record<string, unknown>[] = [];
  for (let run = 0; run < 3; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'fauxqs-persistence-'));
    const child = spawn(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, 'fill', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const deleted = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /filled (\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`fill exited with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    runs.push(await check(dir, deleted));
    rmSync(dir, { recursive: true, force: true });
  }
  // Five rounds, each starting with a different side, so none always runs on the warmest machine.
  const sides = Object.keys(SIDES);
  const rounds: Record<string, { intake: number; drain: number }[]> = Object.fromEntries(sides.map((side) => [side, []]));
  for (let round = 0; round < 5; round++) {
    for (const side of sides.map((_, i) => sides[(i + round) % sides.length]!)) rounds[side]!.push(await throughput(side));
  }
  const ratio = (durable: string, volatile: string, key: 'intake' | 'drain') => {
    const each = rounds[durable]!.map((r, i) => r[key] / rounds[volatile]![i]![key]);
    return `${median(each).toFixed(2)} (rounds ${Math.min(...each).toFixed(2)}-${Math.max(...each).toFixed(2)})`;
  };
  const throughputs = Object.fromEntries(sides.map((side) => [side, { intake: Math.round(median(rounds[side]!.map((r) => r.intake))), drain: Math.round(median(rounds[side]!.map((r) => r.drain))) }]));
  const durableOverVolatile = {
    fauxqsDataDir: { intake: ratio('fauxqs, dataDir', 'fauxqs, in memory', 'intake'), drain: ratio('fauxqs, dataDir', 'fauxqs, in memory', 'drain') },
    journal: { intake: ratio('queue emulator, journaled', 'queue emulator, volatile', 'intake'), drain: ratio('queue emulator, journaled', 'queue emulator, volatile', 'drain') },
  };
  console.log(JSON.stringify({ fauxqs: version, node: process.version, afterKill9: runs, messagesPerSecond: throughputs, durableOverVolatile }, null, 2));
}

await main();
