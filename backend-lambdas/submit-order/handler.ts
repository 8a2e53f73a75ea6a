import { Tracer } from '@aws-lambda-powertools/tracer';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../lib/aws.js';
import { wire } from './submit-order.js';

// Active tracing: each SDK call is a subsegment of the invocation's trace (a no-op off Lambda).
const tracer = new Tracer({ serviceName: 'submit-order' });

export const handler = wire(process.env, { sqs: tracer.captureAWSv3Client(new SQSClient(awsClientConfig())) }, { tracer });
