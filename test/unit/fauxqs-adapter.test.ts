// local/fauxqs-stores.ts reaches into fauxqs where it has no public way (its store classes, its
// spy, a queue's enqueue and purge, its deduplication cache). Each thing the queue journal relies on
// is asserted here against fauxqs itself, so an upgrade that changes one fails here by name rather
// than losing messages in the local stack.
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteMessageCommand, DeleteQueueCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp, type SpyMessage } from 'fauxqs';
import type { AddressInfo } from 'node:net';
import { awsClientConfig } from '../../backend-lambdas/lib/aws.js';
import { continueSequence, createFauxqsStores, observeQueues, putBack, rememberDeduplication, type FauxqsStores, type SqsMessage } from '../../local/fauxqs-stores.js';

let app: ReturnType<typeof buildApp>;
let stores: FauxqsStores;
let sqs: SQSClient;
const heard: SpyMessage[] = [];
const enqueued: { message: SqsMessage; heardBefore: number; heardAfter: number }[] = [];
const dropped: string[] = [];

beforeAll(async () => {
  ({ stores } = await createFauxqsStores({ addMessage: (message) => heard.push(message) }));
  observeQueues(stores.sqsStore, {
    enqueue(message, next) {
      const heardBefore = heard.length;
      next();
      enqueued.push({ message, heardBefore, heardAfter: heard.length });
    },
    dropped: (name) => dropped.push(name),
  });
  app = buildApp({ logger: false, host: 'localhost', stores });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const endpoint = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  sqs = new SQSClient(awsClientConfig({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
});
afterAll(async () => {
  sqs.destroy();
  await app.close();
});

const fifoQueue = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
const queueOf = (name: string) => stores.sqsStore.getQueueByName(name)!;

describe('the fauxqs adapter', () => {
  it('when a FIFO message is sent, then the observer sees it with its group, deduplication id and sequence number, and the spy hears it inside that enqueue', async () => {
    const url = await fifoQueue('adapter-send.fifo');
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'one', MessageGroupId: 'g1', MessageDeduplicationId: 'd1' }));
    const seen = enqueued.find((entry) => entry.message.messageId === sent.MessageId);
    expect(seen?.message).toMatchObject({ body: 'one', messageGroupId: 'g1', messageDeduplicationId: 'd1', sequenceNumber: sent.SequenceNumber });
    expect(heard.slice(seen!.heardBefore, seen!.heardAfter)).toEqual([expect.objectContaining({ service: 'sqs', status: 'published', queueName: 'adapter-send.fifo', messageId: sent.MessageId, body: 'one' })]);
  });

  it('when a message is received past its queue\'s maxReceiveCount, then the spy hears "dlq" on the source and "published" on the DLQ with the same message id, and the move goes through the observer', async () => {
    await sqs.send(new CreateQueueCommand({ QueueName: 'adapter-dlq' }));
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'adapter-source', Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:adapter-dlq', maxReceiveCount: 1 }) } }))).QueueUrl!;
    const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
    const events = heard.filter((message) => message.service === 'sqs' && message.messageId === MessageId).map((message) => message.service === 'sqs' && `${message.status} ${message.queueName}`);
    expect(events).toEqual(['published adapter-source', 'dlq adapter-source', 'published adapter-dlq']);
    expect(enqueued.filter((entry) => entry.message.messageId === MessageId)).toHaveLength(2);
  });

  it('when messages are deleted, one by one or in a batch, then the spy hears "consumed" for each', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'adapter-delete' }))).QueueUrl!;
    const sent = await Promise.all(['a', 'b', 'c'].map(async (body) => (await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }))).MessageId!));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    const [one, ...rest] = Messages;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: one!.ReceiptHandle }));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: rest.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }));
    const consumed = heard.filter((message) => message.service === 'sqs' && message.status === 'consumed' && message.queueName === 'adapter-delete').map((message) => message.service === 'sqs' && message.messageId);
    expect(consumed.sort()).toEqual([...sent].sort());
  });

  it('when a queue is purged or deleted, then the observer is told its name', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'adapter-dropped' }))).QueueUrl!;
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    expect(dropped.filter((name) => name === 'adapter-dropped')).toHaveLength(2);
  });

  it('when a kept message is put back and the sequence continued, then it is received with its id, send time and FIFO fields, and the next send numbers higher', async () => {
    const url = await fifoQueue('adapter-restore.fifo');
    const sentAt = Date.now() - 60_000;
    putBack(queueOf('adapter-restore.fifo'), { id: 'kept-1', body: 'kept', attributes: {}, sentAt, fifo: { groupId: 'g', deduplicationId: 'dk', sequenceNumber: '900' } });
    continueSequence(queueOf('adapter-restore.fifo'), '900');
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['All'] }));
    expect(Messages.map(({ MessageId, Body, Attributes = {} }) => ({ MessageId, Body, ...Attributes }))).toEqual([
      expect.objectContaining({ MessageId: 'kept-1', Body: 'kept', SentTimestamp: String(sentAt), MessageGroupId: 'g', MessageDeduplicationId: 'dk', SequenceNumber: '900' }),
    ]);
    const next = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'next', MessageGroupId: 'h', MessageDeduplicationId: 'dn' }));
    expect(BigInt(next.SequenceNumber!)).toBeGreaterThan(900n);
  });

  it('when a deduplication is remembered from before a restart, then a duplicate gets the first message\'s id until that window ends, and is a new message after', async () => {
    const url = await fifoQueue('adapter-dedup.fifo');
    // A window of 5 s that began 3 s ago: a duplicate now, a new message once the 2 s left are over (not 5 s from now).
    rememberDeduplication(queueOf('adapter-dedup.fifo'), 'dd', 'first-id', '7', Date.now() - 3_000, 5_000);
    const duplicate = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again', MessageGroupId: 'g', MessageDeduplicationId: 'dd' }));
    expect(duplicate).toMatchObject({ MessageId: 'first-id', SequenceNumber: '7' });
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    const fresh = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again', MessageGroupId: 'g', MessageDeduplicationId: 'dd' }));
    expect(fresh.MessageId).not.toBe('first-id');
  });
});
