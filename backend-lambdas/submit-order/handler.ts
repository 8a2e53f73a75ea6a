import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../lib/aws.js';
import { wire } from './submit-order.js';

export const handler = wire(process.env, { sqs: new SQSClient(awsClientConfig()) });
