import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../lib/aws.js';
import { wire } from './get-order.js';

export const handler = wire(process.env, { documents: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig())) });
