import { ListSubscriptionsByTopicCommand, NotFoundException, SubscribeCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, QueueDoesNotExist, SetQueueAttributesCommand, TagQueueCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Consumer } from 'sqs-consumer';
import { isOrderStatus, type OrderDigest, type StatusChangedEvent } from '../domain/lifecycle.js';

/**
 * What a web process hears of an order: that it changed, and how (from, to, the new version) when its
 * message carries that; else it is only a hint to read the order.
 */
export interface OrderEvent {
  type: 'order.status_changed';
  orderId: string;
  change?: StatusChangedEvent | undefined;
}

export interface OrderEvents {
  /** Calls `listener` with every event this process receives, until the returned function is called. */
  listen(listener: (event: OrderEvent) => void): () => void;
}

export interface EventFeed extends OrderEvents {
  /** Makes this process's queue, subscribes it and starts receiving, then sweeps away stale queues. */
  start(): Promise<void>;
  /** Stops receiving, unsubscribes and deletes this process's queue. */
  stop(): Promise<void>;
}

/** The only messages a web process asks order-events for: digests (SNS filters the per-order events out before they cost anything). */
export const WEB_EVENT_TYPES = ['order.digest'] as const;
/**
 * The tag a live process refreshes on its queue: until when it vouches for it (ms since the epoch),
 * its heartbeat plus its own `staleAfterMs`, so processes with other settings judge it by its own.
 */
const ALIVE_TAG = 'alive-until';
/**
 * Long polls kept open on the queue at once: a kitchen run of hundreds of changes sends tens of
 * digests within milliseconds, which one poller would take ten to a round trip (receive, then
 * delete) one after another. Each poller costs about 130,000 empty receives a month idle (3 a minute), $0.05.
 */
const POLLERS = 2;
/** Events older than this are of no use to a page (its safety net has read the order by then). */
const RETENTION_SECONDS = 300;

/** The events a received digest carries (raw delivery: the body is the publisher's); those it cannot read are left out. */
export function orderEventsOf(message: Pick<Message, 'Body'>): OrderEvent[] {
  let digest: Partial<OrderDigest>;
  try {
    digest = JSON.parse(message.Body ?? '') as Partial<OrderDigest>;
  } catch {
    return [];
  }
  if (digest.type !== 'order.digest' || !Array.isArray(digest.events)) return [];
  return digest.events.flatMap((event): OrderEvent[] => {
    if (typeof event !== 'object' || event === null) return [];
    const { order_id: orderId } = event as { order_id?: unknown };
    if (event.type !== 'order.status_changed' || typeof orderId !== 'string') return [];
    // An event without what applying it needs is still a hint to read the order.
    const complete = isOrderStatus(event.from) && isOrderStatus(event.to) && typeof event.at === 'string' && Number.isInteger(event.version);
    return [{ type: event.type, orderId, change: complete ? event : undefined }];
  });
}

/**
 * This process's share of order-events (its digests): a queue of its own (named `queuePrefix` and 16 random hex
 * digits), subscribed to the topic with a filter, received with long polls by sqs-consumer, and
 * deleted at stop. A process killed without its stop leaves its queue and subscription behind: every
 * process tags its queue "alive until" its heartbeat plus `staleAfterMs`, every `staleAfterMs / 5`,
 * and at start and every `staleAfterMs` removes the queues of the prefix past their time, with their
 * subscriptions (and subscriptions whose queue is gone). An event is a hint, not the record: a
 * message that cannot be read is logged and dropped, since the order itself is in the table and the
 * watches' safety net reads it.
 */
export function createEventFeed({ sqs, sns, topicArn, queuePrefix, staleAfterMs, logger, clock = () => Date.now() }: {
  /** Its request timeout must outlast a 20 s long poll. */
  sqs: SQSClient;
  sns: SNSClient;
  topicArn: string;
  queuePrefix: string;
  staleAfterMs: number;
  logger: Logger;
  clock?: () => number;
}): EventFeed {
  const listeners = new Set<(event: OrderEvent) => void>();
  let queue: { url: string; arn: string; subscriptionArn: string | undefined } | undefined;
  let consumers: Consumer[] = [];
  /** Subscriptions the last sweep found without their queue. */
  let suspects = new Set<string>();
  /** The last sweep did not find this process's own subscription. */
  let ownMissing = false;
  /** A heartbeat (which may make the queue again) is under way. */
  let beating = false;
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;

  const aliveUntil = () => String(clock() + staleAfterMs);
  const heartbeat = (url: string) => sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { [ALIVE_TAG]: aliveUntil() } }));

  /** Every subscription of the topic, across its pages. */
  async function subscriptions() {
    const found: { SubscriptionArn?: string | undefined; Endpoint?: string | undefined }[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
      found.push(...(page.Subscriptions ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return found;
  }

  async function exists(url: string): Promise<boolean> {
    try {
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
      return true;
    } catch (error) {
      if (error instanceof QueueDoesNotExist) return false;
      throw error;
    }
  }

  /** Removes the queues of crashed processes and their subscriptions; answers how many queues went. */
  async function sweep(): Promise<number> {
    const urls: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: queuePrefix, NextToken, MaxResults: 1000 }));
      urls.push(...(page.QueueUrls ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const stale: string[] = [];
    for (const url of urls.filter((candidate) => candidate !== queue?.url)) {
      try {
        const { Tags = {} } = await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }));
        // Every queue is tagged as it is made: one without the tag is not a web process's, and is left alone.
        if (Tags[ALIVE_TAG] !== undefined && clock() > Number(Tags[ALIVE_TAG])) stale.push(url);
      } catch (error) {
        if (!(error instanceof QueueDoesNotExist)) throw error;
      }
    }
    const name = (arnOrUrl: string) => arnOrUrl.slice(Math.max(arnOrUrl.lastIndexOf(':'), arnOrUrl.lastIndexOf('/')) + 1);
    const listed = new Set(urls.map(name));
    const staleNames = new Set(stale.map(name));
    const orphans = new Set<string>();
    let ownFound = false;
    for (const subscription of await subscriptions()) {
      const arn = subscription.SubscriptionArn ?? '';
      const queueName = name(subscription.Endpoint ?? '');
      if (queue?.subscriptionArn === arn) ownFound = true;
      if (!arn.startsWith('arn:') || !queueName.startsWith(queuePrefix) || (queue && queueName === name(queue.url))) continue;
      // A subscription whose queue was not listed may be another process's, made since the listing (and a
      // queue made a moment ago may not answer yet): it goes when two sweeps in a row found its queue gone.
      const orphan = !listed.has(queueName) && queue !== undefined && !(await exists(`${queue.url.slice(0, queue.url.lastIndexOf('/') + 1)}${queueName}`));
      if (orphan) orphans.add(arn);
      if (staleNames.has(queueName) || (orphan && suspects.has(arn))) await unsubscribe(arn);
    }
    suspects = orphans;
    // Its own subscription gone (another's sweep, an operator): the next heartbeat makes a new queue and subscription.
    if (queue?.subscriptionArn && !ownFound) {
      if (ownMissing) queue.subscriptionArn = undefined;
      ownMissing = !ownMissing;
    } else {
      ownMissing = false;
    }
    for (const url of stale) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch((error: unknown) => {
      if (!(error instanceof QueueDoesNotExist)) throw error;
    });
    if (stale.length) logger.info({ queues: stale.length }, 'removed the event queues of web processes that stopped without removing them');
    return stale.length;
  }

  /** Unsubscribes; one another process removed first is as good. */
  async function unsubscribe(arn: string) {
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: arn })).catch((error: unknown) => {
      if (!(error instanceof NotFoundException)) throw error;
    });
  }

  /** Stops receiving from `current` and removes its subscription and queue (each possibly half made). */
  async function teardown(current: NonNullable<typeof queue>) {
    for (const consumer of consumers.splice(0)) consumer.stop({ abort: true });
    if (current.subscriptionArn?.startsWith('arn:')) await unsubscribe(current.subscriptionArn).catch((error: unknown) => logger.warn({ err: error }, 'unsubscribing the event queue failed; a sweep removes it'));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: current.url })).catch((error: unknown) => {
      if (!(error instanceof QueueDoesNotExist)) logger.warn({ err: error }, 'deleting the event queue failed; a sweep removes it');
    });
  }

  function every(ms: number, task: () => Promise<unknown>, what: string) {
    const timer = setInterval(() => void task().catch((error: unknown) => logger.warn({ err: error }, `${what} failed; trying again later`)), ms);
    timer.unref();
    timers.push(timer);
  }

  /** Makes this process's queue, lets only the topic send to it, subscribes it and starts receiving. */
  async function open() {
    const QueueName = `${queuePrefix}${randomBytes(8).toString('hex')}`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName, tags: { [ALIVE_TAG]: aliveUntil() }, Attributes: { MessageRetentionPeriod: String(RETENTION_SECONDS), ReceiveMessageWaitTimeSeconds: '20', SqsManagedSseEnabled: 'true' } }));
    const url = QueueUrl!;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const arn = Attributes!.QueueArn!;
    queue = { url, arn, subscriptionArn: undefined };
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': topicArn } } }] };
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }));
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: arn, ReturnSubscriptionArn: true, Attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify({ event_type: WEB_EVENT_TYPES }) } }),
    );
    queue.subscriptionArn = SubscriptionArn;
    let lastErrorLogAt = 0;
    consumers = Array.from({ length: POLLERS }, () => {
      const consumer = Consumer.create({
        queueUrl: url,
        sqs,
        batchSize: 10,
        waitTimeSeconds: 20,
        authenticationErrorTimeout: 1000,
        pollingCompleteWaitTimeMs: 1000,
        handleMessageBatch(messages) {
          for (const message of messages) {
            const events = orderEventsOf(message);
            if (events.length === 0) logger.warn({ message_id: message.MessageId }, 'an order-events message this process cannot read; dropped (the watches read the order itself)');
            for (const event of events) {
              for (const listener of listeners) {
                try {
                  listener(event);
                } catch (error) {
                  // One page's failure must not return the batch to the queue for every other page.
                  logger.error({ err: error, order_id: event.orderId }, 'an order event listener failed');
                }
              }
            }
          }
          return Promise.resolve(messages);
        },
      });
      consumer.on('error', (error) => {
        if (stopping || clock() - lastErrorLogAt < 5000) return;
        lastErrorLogAt = clock();
        logger.warn({ err: error }, 'receiving order events failed; retrying (the watches fall back on their safety net)');
      });
      consumer.start();
      return consumer;
    });
    logger.info({ queue: QueueName }, 'receiving order events');
  }

  /**
   * Refreshes the heartbeat, and makes the queue and its subscription again when they are gone or half
   * made (removed by another process's sweep after a long outage, an emulator restarted empty, a start
   * again that failed half way), so the process hears events again.
   */
  async function beat() {
    if (beating || stopping) return;
    beating = true;
    try {
      if (queue?.subscriptionArn) {
        try {
          await heartbeat(queue.url);
          return;
        } catch (error) {
          if (!(error instanceof QueueDoesNotExist)) throw error;
        }
      }
      logger.warn('this process\'s event queue or its subscription is gone; making them again');
      const old = queue;
      queue = undefined;
      if (old) await teardown(old);
      await open();
      if (stopping && queue) await teardown(queue);
    } finally {
      beating = false;
    }
  }

  return {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      // Its own queue first: the sweep tells another's queue from a gone one by their common URL.
      await open();
      await sweep().catch((error: unknown) => logger.warn({ err: error }, 'sweeping stale event queues failed; trying again later'));
      every(Math.max(200, Math.floor(staleAfterMs / 5)), beat, 'refreshing the event queue\'s heartbeat');
      every(staleAfterMs, sweep, 'sweeping stale event queues');
    },
    async stop() {
      stopping = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      const current = queue;
      queue = undefined;
      if (current) await teardown(current);
      else for (const consumer of consumers.splice(0)) consumer.stop({ abort: true });
    },
  };
}
