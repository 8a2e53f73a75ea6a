import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  ScanCommand,
  type AttributeValue,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { cartTable } from '../backend-lambdas/lib/cart-store.js';
import { createOrderStore, orderTable } from '../backend-lambdas/lib/order-store.js';
import { createProductStore, productTable } from '../backend-lambdas/lib/product-store.js';
import { queueNames, settings, type QueueType } from '../platform/settings.js';
import type { LocalClients } from './clients.js';
import type { Profile } from './profiles.js';

/** The internal queue that stands in for SNS email delivery, which the emulator does not do. */
export const MAIL_QUEUE_NAME = 'local-email-delivery';

/** Only "order received" reaches the admin's mailbox, not every status change (Terraform's filter policy too). */
export const ORDER_EVENTS_EMAIL_FILTER = { event_type: ['order.received'] };

/** What the customer notifications queue takes from order-events (Terraform's filter policy too). */
export const CUSTOMER_MAIL_FILTER = { event_type: [...settings.customerMail.eventTypes], customer_mail: ['true'] };

/** The customer notifications queue's subscription to order-events: raw (the body is the event), filtered by SNS. */
export const CUSTOMER_NOTIFICATIONS_SUBSCRIPTION = { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify(CUSTOMER_MAIL_FILTER) };

export interface QueueRef {
  name: string;
  url: string;
  arn: string;
}

export interface LocalResources {
  queueType: QueueType;
  queue: QueueRef;
  deadLetterQueue: QueueRef;
  /** order-events' customer mail events, for notify-customer; with its own dead-letter queue. */
  customerNotificationsQueue: QueueRef;
  customerNotificationsDeadLetterQueue: QueueRef;
  mailQueue: QueueRef;
  tableName: string;
  cartsTableName: string;
  productsTableName: string;
  topics: { orderEvents: string; opsAlarms: string };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<QueueRef> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { name, url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** The orders table as Terraform and CloudFormation create it, from the order store's key schema. */
export function orderTableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, dueIndex, accountIndex } = orderTable;
  const index = ({ name, partitionKey: hash, sortKey, projection }: { name: string; partitionKey: string; sortKey: string; projection: readonly string[] }) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' as const },
      { AttributeName: sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...projection] },
  });
  return {
    TableName: tableName,
    BillingMode: settings.table.billingMode,
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: dueIndex.partitionKey, AttributeType: 'N' },
      { AttributeName: dueIndex.sortKey, AttributeType: 'S' },
      { AttributeName: accountIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: accountIndex.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [index(dueIndex), index(accountIndex)],
  };
}

/** A table keyed by one string attribute and nothing else, as Terraform and CloudFormation create it. */
function keyedTable(tableName: string, partitionKey: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: settings.table.billingMode,
    AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
  };
}

/** The carts table, from the cart store's key schema (its TTL attribute is set on AWS; dynalite has no TTL). */
export const cartTableDefinition = (tableName: string) => keyedTable(tableName, cartTable.partitionKey);

/** The products table, from the product store's key schema. */
export const productTableDefinition = (tableName: string) => keyedTable(tableName, productTable.partitionKey);

/** The table's status, or undefined when there is no such table. */
async function tableStatus(clients: LocalClients, tableName: string): Promise<string | undefined> {
  try {
    return (await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** Polls `done` every 20 ms, for 10 s at most. */
async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !(await done()); ) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Creates a table (first deleting the one of that name, with `replace`), waits until it is active and
 * writes `items` into it.
 */
export async function makeTable(clients: LocalClients, definition: CreateTableCommandInput, { replace = false, items = [] }: { replace?: boolean; items?: Record<string, AttributeValue>[] } = {}): Promise<void> {
  const tableName = definition.TableName!;
  if (replace) {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    // dynalite deletes a table a moment after it answers (as DynamoDB does): made again before that, the new one went with it.
    await until(async () => !(await tableStatus(clients, tableName)), `${tableName} to be deleted`);
  }
  await clients.dynamodb.send(new CreateTableCommand(definition));
  await until(async () => (await tableStatus(clients, tableName)) === 'ACTIVE', `${tableName} to be active`);
  for (let i = 0; i < items.length; i += 25) {
    await clients.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

/**
 * Creates a table, or brings one made by an earlier version up to date. dynalite cannot add an
 * index to a table, so such a table is read, made again with every index and refilled: no item is lost.
 */
async function ensureTable(clients: LocalClients, definition: CreateTableCommandInput, logger: Logger): Promise<'made' | 'remade' | 'kept'> {
  const tableName = definition.TableName!;
  const wanted = (definition.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName!);
  let indexes: string[] | undefined;
  try {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName!);
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  if (indexes && wanted.every((name) => indexes.includes(name))) return 'kept';

  const items: Record<string, AttributeValue>[] = [];
  if (indexes) {
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await clients.dynamodb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    logger.warn({ table: tableName, items: items.length, indexes: wanted }, 'the table lacked an index; made again with its items');
  }
  await makeTable(clients, definition, { replace: Boolean(indexes), items });
  return indexes ? 'remade' : 'made';
}

/** A queue as CreateQueue makes it: its name and attributes (the redrive policy's target is filled in when the DLQ exists). */
export interface QueueDefinition {
  name: string;
  attributes: Record<string, string>;
}

/**
 * The orders queue and its DLQ as Terraform and CloudFormation create them for a queue type: with
 * `fifo`, both FIFO (a FIFO queue's DLQ must be FIFO), named `.fifo`, deduplicating by the id each
 * message carries, never by content. The parity test reads these.
 */
export function queueDefinitions(profile: Profile, queueType: QueueType): { queue: QueueDefinition; deadLetterQueue: QueueDefinition } {
  const names = queueNames(queueType);
  const fifo: Record<string, string> = queueType === 'fifo' ? { FifoQueue: 'true', ContentBasedDeduplication: String(settings.queue.contentBasedDeduplication) } : {};
  return {
    deadLetterQueue: { name: names.deadLetterQueue, attributes: { ...fifo, MessageRetentionPeriod: String(settings.deadLetterQueue.messageRetentionSeconds) } },
    queue: {
      name: names.queue,
      attributes: {
        ...fifo,
        VisibilityTimeout: String(profile.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(settings.queue.messageRetentionSeconds),
        ReceiveMessageWaitTimeSeconds: String(settings.queue.receiveWaitTimeSeconds),
      },
    },
  };
}

/** Creates what Terraform creates on AWS: queues with redrive, the table, topics and their email subscriptions. */
export async function createResources(
  clients: LocalClients,
  profile: Profile,
  adminEmail: string,
  { adminOrderMail = false, queueType = settings.queue.type, logger }: { adminOrderMail?: boolean; queueType?: QueueType; logger: Logger },
): Promise<LocalResources> {
  const { names } = settings;
  const definitions = queueDefinitions(profile, queueType);
  const deadLetterQueue = await createQueue(clients.sqs, definitions.deadLetterQueue.name, definitions.deadLetterQueue.attributes);
  const queue = await createQueue(clients.sqs, definitions.queue.name, {
    ...definitions.queue.attributes,
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueue.arn, maxReceiveCount: settings.queue.maxReceiveCount }),
  });
  const customerNotificationsDeadLetterQueue = await createQueue(clients.sqs, names.customerNotificationsDeadLetterQueue, {
    MessageRetentionPeriod: String(settings.deadLetterQueue.messageRetentionSeconds),
  });
  const customerNotificationsQueue = await createQueue(clients.sqs, names.customerNotificationsQueue, {
    VisibilityTimeout: String(profile.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: customerNotificationsDeadLetterQueue.arn, maxReceiveCount: settings.queue.maxReceiveCount }),
  });
  const mailQueue = await createQueue(clients.sqs, MAIL_QUEUE_NAME, { VisibilityTimeout: '30' });
  if ((await ensureTable(clients, orderTableDefinition(names.table), logger)) === 'remade') {
    // A table of an earlier version: its account orders get the account_id the new index lists them by (as ops/migrate-orders.ts does on AWS).
    const migrated = await createOrderStore({ documents: clients.documents, tableName: names.table }).migrateAccountOrders();
    if (migrated > 0) logger.warn({ table: names.table, migrated }, 'account orders given their account_id');
  }
  await ensureTable(clients, cartTableDefinition(names.cartsTable), logger);
  await ensureTable(clients, productTableDefinition(names.productsTable), logger);
  // Today's menu on first start; a product already there (changed by staff, or from a start before) is kept.
  const seeded = await createProductStore({ documents: clients.documents, tableName: names.productsTable }).seed();
  if (seeded > 0) logger.info({ table: names.productsTable, seeded }, 'products table filled with the seed menu');

  const topics = { orderEvents: '', opsAlarms: '' };
  for (const [key, name] of [['orderEvents', names.orderEventsTopic], ['opsAlarms', names.opsAlarmsTopic]] as const) {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: name }));
    topics[key] = TopicArn!;
    if (key === 'orderEvents') {
      // The customer's mail events, raw (the body is the event), as Terraform subscribes the queue.
      await clients.sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: customerNotificationsQueue.arn,
          Attributes: CUSTOMER_NOTIFICATIONS_SUBSCRIPTION,
        }),
      );
    }
    if (key === 'orderEvents' && !adminOrderMail) continue;
    // The mail queue's subscription carries the email subscription's filter: the emulator filters, as SNS would.
    const Attributes = key === 'orderEvents' ? { FilterPolicy: JSON.stringify(ORDER_EVENTS_EMAIL_FILTER) } : undefined;
    await clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: adminEmail, Attributes }));
    await clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: mailQueue.arn, Attributes }));
  }
  return { queueType, queue, deadLetterQueue, customerNotificationsQueue, customerNotificationsDeadLetterQueue, mailQueue, tableName: names.table, cartsTableName: names.cartsTable, productsTableName: names.productsTable, topics };
}
