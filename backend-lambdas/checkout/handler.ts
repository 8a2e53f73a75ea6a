import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../lib/aws.js';
import { wire } from './checkout.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'checkout' });

export const handler = wire(
  process.env,
  {
    documents: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient(awsClientConfig()))),
    sqs: tracer.captureAWSv3Client(new SQSClient(awsClientConfig())),
  },
  { tracer },
);
