import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../aws.js';

/** The SQS client of a Lambda's handler.ts: each call a subsegment of the invocation's trace. */
export const tracedSqs = (tracer: Tracer) => tracer.captureAWSv3Client(new SQSClient(awsClientConfig()));
