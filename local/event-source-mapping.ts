import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import type { Context } from 'aws-lambda';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import { createLambdaContext } from './lambda-context.js';
import type { QueueRef } from './resources.js';
import { settings } from '../platform/settings.js';

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface EventSourceMappingOptions {
  sqs: SQSClient;
  queue: QueueRef;
  functionName: string;
  /** Makes one handler per concurrent poller, as Lambda runs one per execution environment. */
  createHandler: () => SqsBatchHandler;
  logger: Logger;
  batchSize?: number;
  concurrency?: number;
  waitTimeSeconds?: number;
}

export interface EventSourceMapping {
  /**
   * Stops polling. Graceful: the polls under way finish and their messages are handled, as when a
   * mapping is disabled. Otherwise they are aborted (fast, for shutdown): a long poll the emulator
   * answers after that leaves its messages in flight until their visibility timeout.
   */
  stop(options?: { graceful?: boolean }): Promise<void>;
}

/**
 * The system attributes Lambda puts on each record of an SQS event: the receive count and times
 * for every queue, and for a FIFO queue its group, deduplication id and sequence number (which
 * Powertools' FIFO processor reads as `attributes.MessageGroupId`). Named one by one rather than
 * 'All', so a record never carries what Lambda's would not.
 */
export const LAMBDA_RECORD_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'MessageGroupId',
  'MessageDeduplicationId',
  'SequenceNumber',
] as const;

/** An SQS message as Lambda's SQS event source hands it to a function. */
export function toSqsRecord(message: Message, queue: QueueRef): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as unknown as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: settings.region,
  };
}

/**
 * Which messages Lambda's event source mapping deletes after an invocation: all but those in
 * batchItemFailures; none when the function threw or reported an id that is not in the batch.
 */
export function messagesToDelete(messages: Message[], outcome: { response?: SQSBatchResponse | void; threw: boolean }): Message[] {
  if (outcome.threw) return [];
  const failures = outcome.response?.batchItemFailures ?? [];
  const ids = new Set(messages.map((message) => message.MessageId));
  if (failures.some((failure) => !failure.itemIdentifier || !ids.has(failure.itemIdentifier))) return [];
  const failed = new Set(failures.map((failure) => failure.itemIdentifier));
  return messages.filter((message) => !failed.has(message.MessageId!));
}

/**
 * One invocation at a time per FIFO message group, across all the mapping's pollers. The queue
 * holds a group while one of its messages is in flight, but not past that message's visibility
 * timeout: when an invocation outlasts it (the fast profile's 2 s, on a busy machine), SQS and
 * fauxqs alike hand the message to the next poller while the first still works on it. On AWS the
 * visibility timeout is 6 x the function's timeout and that does not happen; here a batch that
 * brings a group already being processed waits for that invocation to end, so two invocations
 * never hold one customer's orders at once, as on a deployment configured as AWS advises.
 */
export function createGroupLocks() {
  const held = new Map<string, Promise<void>>();
  return {
    /** Waits until no invocation holds any of `groups`, then holds them all; call the answer to let them go. */
    async hold(groups: readonly string[]): Promise<() => void> {
      for (;;) {
        const busy = groups.flatMap((group) => held.get(group) ?? []);
        if (busy.length === 0) break;
        await Promise.allSettled(busy);
      }
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      for (const group of groups) held.set(group, done);
      return () => {
        for (const group of groups) if (held.get(group) === done) held.delete(group);
        release();
      };
    },
  };
}

/** Polls a queue and invokes a function with batches, as a Lambda SQS event source mapping does. */
export function startEventSourceMapping({
  sqs,
  queue,
  functionName,
  createHandler,
  logger,
  batchSize = 10,
  concurrency = 1,
  waitTimeSeconds = 20,
}: EventSourceMappingOptions): EventSourceMapping {
  const inFlight = new Set<Promise<unknown>>();
  const groups = createGroupLocks();
  let lastErrorLogAt = 0;
  let stopping = false;

  const consumers = Array.from({ length: concurrency }, () => {
    const handler = createHandler();
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      batchSize,
      waitTimeSeconds,
      authenticationErrorTimeout: 1000,
      messageSystemAttributeNames: [...LAMBDA_RECORD_ATTRIBUTES],
      messageAttributeNames: ['All'],
      strictReturn: true,
      pollingCompleteWaitTimeMs: (waitTimeSeconds + 10) * 1000,
      // Its warning is that it does not keep a FIFO queue's groups apart on its own: the group locks here do.
      suppressFifoWarning: true,
      async handleMessageBatch(messages) {
        const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, queue)) };
        const release = await groups.hold([...new Set(messages.flatMap((message) => message.Attributes?.MessageGroupId ?? []))]);
        const invocation = handler(event, createLambdaContext(functionName)).then(
          (response) => ({ response, threw: false }),
          (error: unknown) => {
            logger.error({ err: error, functionName }, 'function threw; the whole batch will be retried');
            return { threw: true };
          },
        );
        inFlight.add(invocation);
        try {
          return messagesToDelete(messages, await invocation);
        } finally {
          inFlight.delete(invocation);
          release();
        }
      },
    });
    consumer.on('error', (error) => {
      // Stopping aborts the polls under way: that is not a failure to report.
      if (stopping) return;
      // A stopped emulator makes every poll fail; one line every few seconds is enough to say so.
      if (Date.now() - lastErrorLogAt > 5000) {
        lastErrorLogAt = Date.now();
        logger.warn({ err: error, queue: queue.name }, 'polling the queue failed; retrying');
      }
    });
    consumer.start();
    return consumer;
  });

  return {
    async stop({ graceful = false } = {}) {
      stopping = true;
      await Promise.all(
        consumers.map(
          (consumer) =>
            new Promise<void>((resolve) => {
              if (graceful) consumer.once('stopped', () => resolve());
              consumer.stop({ abort: !graceful });
              if (!graceful) resolve();
            }),
        ),
      );
      await Promise.allSettled([...inFlight]);
    },
  };
}
