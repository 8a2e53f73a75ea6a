import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { parseConfig } from '../../domain/config.js';
import { awsClientConfig } from '../lib/aws.js';
import { createSubmitOrderHandler } from './submit-order.js';

const config = parseConfig(z.object({ QUEUE_URL: z.url() }), process.env, 'submit-order');

export const handler = createSubmitOrderHandler({
  sqs: new SQSClient(awsClientConfig()),
  queueUrl: config.QUEUE_URL,
  logger: new Logger({ serviceName: 'submit-order' }),
});
