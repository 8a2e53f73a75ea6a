import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SNSClient } from '@aws-sdk/client-sns';
import { awsClientConfig } from '../aws.js';

/** The SNS client of a Lambda's handler.ts: each call a subsegment of the invocation's trace. */
export const tracedSns = (tracer: Tracer) => tracer.captureAWSv3Client(new SNSClient(awsClientConfig()));
