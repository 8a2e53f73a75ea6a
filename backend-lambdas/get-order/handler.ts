import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { parseConfig } from '../../domain/config.js';
import { awsClientConfig } from '../lib/aws.js';
import { createGetOrderHandler } from './get-order.js';

const config = parseConfig(z.object({ TABLE_NAME: z.string().check(z.minLength(3)) }), process.env, 'get-order');

export const handler = createGetOrderHandler({
  ddb: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig())),
  tableName: config.TABLE_NAME,
  logger: new Logger({ serviceName: 'get-order' }),
});
