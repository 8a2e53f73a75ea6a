import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../lib/aws.js';
import { wire } from './staff-orders.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'staff-orders' });

export const handler = wire(
  process.env,
  {
    documents: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient(awsClientConfig()))),
    sns: tracer.captureAWSv3Client(new SNSClient(awsClientConfig())),
  },
  { tracer },
);
