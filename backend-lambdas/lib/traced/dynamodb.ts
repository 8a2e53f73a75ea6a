import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../aws.js';

// One module a client, so that a function's bundle holds the SDKs it uses and no other.
/** The document client of a Lambda's handler.ts: each call a subsegment of the invocation's trace. */
export const tracedDocuments = (tracer: Tracer) => DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient(awsClientConfig())));
