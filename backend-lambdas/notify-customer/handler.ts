import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../lib/aws.js';
import { wire } from './notify-customer.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'notify-customer' });

export const handler = wire(
  process.env,
  {
    documents: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient(awsClientConfig()))),
    ses: tracer.captureAWSv3Client(new SESv2Client(awsClientConfig())),
  },
  { tracer },
);
