import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../backend-lambdas/lib/aws.js';
import { settings } from '../platform/settings.js';

// The emulators accept any credentials; fixed ones keep the SDK from looking for real ones.
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalClients {
  sqs: SQSClient;
  /** For long polls (20 s), which the request timeout of `sqs` would cut. */
  sqsPolling: SQSClient;
  sns: SNSClient;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  ses: SESv2Client;
}

/**
 * SDK clients pointed at the local emulators, configured as the Lambdas' own are but for their
 * connection pools: every function of the stack shares these, where on AWS each execution
 * environment has a pool of its own, so a pool here is as wide as the stack's concurrent calls (a
 * burst of 500 status reads would otherwise wait for 64 sockets past the connection timeout).
 */
export function createLocalClients(queueEndpoint: string, tableEndpoint: string, mailEndpoint: string): LocalClients {
  const region = settings.region;
  const config = (endpoint: string, options: { requestTimeoutMs?: number } = {}) => awsClientConfig({ region, endpoint, credentials, maxSockets: Infinity, ...options });
  const dynamodb = new DynamoDBClient(config(tableEndpoint));
  return {
    sqs: new SQSClient(config(queueEndpoint)),
    sqsPolling: new SQSClient(config(queueEndpoint, { requestTimeoutMs: 25_000 })),
    sns: new SNSClient(config(queueEndpoint)),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb),
    ses: new SESv2Client(config(mailEndpoint)),
  };
}

export function destroyClients(clients: LocalClients): void {
  clients.sqs.destroy();
  clients.sqsPolling.destroy();
  clients.sns.destroy();
  clients.documents.destroy();
  clients.dynamodb.destroy();
  clients.ses.destroy();
}
