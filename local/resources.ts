import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalClients } from './clients.js';
import { settings, type Profile } from './settings.js';

/** The internal queue that stands in for SNS email delivery, which the emulator does not do. */
export const MAIL_QUEUE_NAME = 'local-email-delivery';

export interface QueueRef {
  name: string;
  url: string;
  arn: string;
}

export interface LocalResources {
  queue: QueueRef;
  deadLetterQueue: QueueRef;
  mailQueue: QueueRef;
  tableName: string;
  topics: { orderEvents: string; opsAlarms: string };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<QueueRef> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { name, url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function ensureTable(clients: LocalClients, tableName: string): Promise<void> {
  try {
    await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const key = settings.table.partitionKey;
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: settings.table.billingMode,
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    }),
  );
}

/** Creates what Terraform creates on AWS: queues with redrive, the table, topics and their email subscriptions. */
export async function createResources(clients: LocalClients, profile: Profile, adminEmail: string, { orderEventsEmail = true } = {}): Promise<LocalResources> {
  const { names } = settings;
  const deadLetterQueue = await createQueue(clients.sqs, names.deadLetterQueue, {
    MessageRetentionPeriod: String(settings.deadLetterQueue.messageRetentionSeconds),
  });
  const queue = await createQueue(clients.sqs, names.queue, {
    VisibilityTimeout: String(profile.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(settings.queue.messageRetentionSeconds),
    ReceiveMessageWaitTimeSeconds: String(settings.queue.receiveWaitTimeSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueue.arn, maxReceiveCount: settings.queue.maxReceiveCount }),
  });
  const mailQueue = await createQueue(clients.sqs, MAIL_QUEUE_NAME, { VisibilityTimeout: '30' });
  await ensureTable(clients, names.table);

  const topics = { orderEvents: '', opsAlarms: '' };
  for (const [key, name] of [['orderEvents', names.orderEventsTopic], ['opsAlarms', names.opsAlarmsTopic]] as const) {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: name }));
    topics[key] = TopicArn!;
    if (key === 'orderEvents' && !orderEventsEmail) continue;
    await clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: adminEmail }));
    await clients.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: mailQueue.arn }));
  }
  return { queue, deadLetterQueue, mailQueue, tableName: names.table, topics };
}
