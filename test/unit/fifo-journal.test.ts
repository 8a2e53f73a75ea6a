// The local queues' durability on FIFO queues: what the journal puts back after a restart keeps its
// group (so a customer's orders stay in order), its deduplication id (a duplicate send within five
// minutes is still refused) and its sequence number; and changing QUEUE_TYPE between runs moves the
// other type's messages into this type's queues.
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsClientConfig } from '../../backend-lambdas/lib/aws.js';
import { LOOPBACK_HOST_NAMES, parseHostRules } from '../../frontend/request-origin.js';
import { startQueueEmulator, type QueueEmulator } from '../../local/emulators.js';
import { silentLogger } from '../helpers/loggers.js';

let dir: string;
let emulator: QueueEmulator | undefined;
let sqs: SQSClient | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fifo-journal-'));
});
afterEach(async () => {
  sqs?.destroy();
  await emulator?.stop();
  emulator = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The queue emulator on the test's journal, its queues made again as the stack makes them, then restored. */
async function start(queues: { name: string; fifo: boolean }[], carryOver: Record<string, string> = {}) {
  sqs?.destroy();
  await emulator?.stop();
  emulator = await startQueueEmulator('127.0.0.1', 0, { logger: silentLogger(), hosts: parseHostRules([...LOOPBACK_HOST_NAMES]), journalFile: join(dir, 'journal.ndjson') });
  sqs = new SQSClient(awsClientConfig({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  const urls: Record<string, string> = {};
  for (const { name, fifo } of queues) {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false', VisibilityTimeout: '30' } : {} }));
    urls[name] = QueueUrl!;
  }
  return { urls, report: emulator.restore({ carryOver }), sqs };
}

/** Every message, in the order the queue hands them out, deleting each (a FIFO group is held until its message is deleted). */
async function receiveAll(client: SQSClient, url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'SequenceNumber'] }));
    if (Messages.length === 0) return all;
    for (const message of Messages) {
      all.push(message);
      await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

describe('FIFO queues across a restart of the local queues', () => {
  it('when the emulator restarts, then each message comes back in its group, in order, with its deduplication id and sequence number; a duplicate of a message sent before (deleted or not) is refused; new numbers keep rising', async () => {
    const fifo = [{ name: 'orders.fifo', fifo: true }];
    const first = await start(fifo);
    const send = ({ sqs: client, urls }: Awaited<ReturnType<typeof start>>, group: string, id: string) =>
      client.send(new SendMessageCommand({ QueueUrl: urls['orders.fifo'], MessageBody: JSON.stringify({ customer_id: group, order_id: id }), MessageGroupId: group, MessageDeduplicationId: id }));
    const sent = [];
    for (const [group, id] of [['c1', 'o1'], ['c2', 'o2'], ['c1', 'o3'], ['c1', 'o4'], ['c2', 'o5']] as const) sent.push({ group, id, ...(await send(first, group, id)) });
    // o1 is processed and deleted before the restart: gone, but still a duplicate for five minutes.
    const { Messages: [o1] = [] } = await first.sqs.send(new ReceiveMessageCommand({ QueueUrl: first.urls['orders.fifo'], MaxNumberOfMessages: 1 }));
    await first.sqs.send(new DeleteMessageCommand({ QueueUrl: first.urls['orders.fifo'], ReceiptHandle: o1!.ReceiptHandle }));

    const second = await start(fifo);
    expect(second.report).toMatchObject({ restored: 4, carriedOver: 0 });
    // Duplicates of o1 (deleted) and o3 (waiting): answered with the original message, nothing new queued.
    const again = [await send(second, 'c1', 'o1'), await send(second, 'c1', 'o3')];
    expect(again.map((answer) => answer.MessageId)).toEqual([sent[0]!.MessageId, sent[2]!.MessageId]);
    const fresh = await send(second, 'c2', 'o6');
    expect(BigInt(fresh.SequenceNumber!)).toBeGreaterThan(BigInt(sent.at(-1)!.SequenceNumber!));

    const back = await receiveAll(second.sqs, second.urls['orders.fifo']!);
    const inGroup = (group: string) => back.filter((message) => message.Attributes?.MessageGroupId === group).map((message) => [message.MessageId, message.Attributes?.MessageDeduplicationId, message.Attributes?.SequenceNumber]);
    expect(inGroup('c1')).toEqual(sent.filter((entry) => entry.group === 'c1' && entry.id !== 'o1').map((entry) => [entry.MessageId, entry.id, entry.SequenceNumber]));
    expect(inGroup('c2')).toEqual([...sent.filter((entry) => entry.group === 'c2').map((entry) => [entry.MessageId, entry.id, entry.SequenceNumber]), [fresh.MessageId, 'o6', fresh.SequenceNumber]]);
    expect(back).toHaveLength(5);
  });

  it('when QUEUE_TYPE changed between runs, then the standard queue\'s messages go into the FIFO queue, each in its customer\'s group and in its order', async () => {
    const first = await start([{ name: 'orders', fifo: false }]);
    const bodies = ['c1', 'c2', 'c1', 'not json'].map((customer, i) => (customer === 'not json' ? customer : JSON.stringify({ customer_id: customer, n: i })));
    const ids = [];
    for (const body of bodies) ids.push((await first.sqs.send(new SendMessageCommand({ QueueUrl: first.urls.orders, MessageBody: body }))).MessageId);

    const second = await start([{ name: 'orders.fifo', fifo: true }], { orders: 'orders.fifo' });
    expect(second.report).toMatchObject({ restored: 0, carriedOver: 4, dropped: 0 });
    const back = await receiveAll(second.sqs, second.urls['orders.fifo']!);
    expect(back.map((message) => [message.MessageId, message.Attributes?.MessageGroupId, message.Attributes?.MessageDeduplicationId])).toEqual(
      expect.arrayContaining([
        [ids[0], 'integration:c1', ids[0]],
        [ids[1], 'integration:c2', ids[1]],
        [ids[2], 'integration:c1', ids[2]],
        // A body that names no customer still goes somewhere it is kept.
        [ids[3], 'restored', ids[3]],
      ]),
    );
    expect(back.filter((message) => message.Attributes?.MessageGroupId === 'integration:c1').map((message) => message.MessageId)).toEqual([ids[0], ids[2]]);

    // And after one more restart they are still there, now as FIFO messages of their own queue.
    const third = await start([{ name: 'orders.fifo', fifo: true }], { orders: 'orders.fifo' });
    expect(third.report).toMatchObject({ restored: 0, carriedOver: 0 });
  });
});
