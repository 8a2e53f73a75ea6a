import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { parseConfig } from '../../domain/config.js';
import { awsClientConfig } from '../lib/aws.js';
import { createProcessOrderHandler } from './process-order.js';

const config = parseConfig(
  z.object({ TABLE_NAME: z.string().check(z.minLength(3)), ORDER_EVENTS_TOPIC_ARN: z.optional(z.string().check(z.startsWith('arn:'))) }),
  process.env,
  'process-order',
);

export const handler = createProcessOrderHandler({
  ddb: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig())),
  tableName: config.TABLE_NAME,
  sns: config.ORDER_EVENTS_TOPIC_ARN ? new SNSClient(awsClientConfig()) : undefined,
  topicArn: config.ORDER_EVENTS_TOPIC_ARN,
  logger: new Logger({ serviceName: 'process-order' }),
});
