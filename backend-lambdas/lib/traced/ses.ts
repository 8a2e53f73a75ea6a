import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { awsClientConfig } from '../aws.js';

/** The SES client of a Lambda's handler.ts: each call a subsegment of the invocation's trace. */
export const tracedSes = (tracer: Tracer) => tracer.captureAWSv3Client(new SESv2Client(awsClientConfig()));
