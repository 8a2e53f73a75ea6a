// Baseline of a Lambda's import: the SDK clients the functions use (every client a handler.ts
// builds through backend-lambdas/lib/traced/), built once at module scope as a handler builds them,
// and nothing else. Bundled by bench/run.ts as scripts/build.ts bundles a Lambda.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../../backend-lambdas/lib/aws.js';

export const clients = {
  sqs: new SQSClient(awsClientConfig()),
  sns: new SNSClient(awsClientConfig()),
  documents: DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig())),
  ses: new SESv2Client(awsClientConfig()),
};
