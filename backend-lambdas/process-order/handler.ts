import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../lib/aws.js';
import { wire } from './process-order.js';

export const handler = wire(process.env, {
  documents: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig())),
  sns: new SNSClient(awsClientConfig()),
});
