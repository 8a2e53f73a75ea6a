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

/** SDK clients pointed at the local emulators, configured as the Lambdas' own are. */
export function createLocalClients(queueEndpoint: string, tableEndpoint: string, mailEndpoint: string): LocalClients {
  const region = settings.region;
  const dynamodb = new DynamoDBClient(awsClientConfig({ region, endpoint: tableEndpoint, credentials }));
  return {
    sqs: new SQSClient(awsClientConfig({ region, endpoint: queueEndpoint, credentials })),
    sqsPolling: new SQSClient(awsClientConfig({ region, endpoint: queueEndpoint, credentials, requestTimeoutMs: 25_000 })),
    sns: new SNSClient(awsClientConfig({ region, endpoint: queueEndpoint, credentials })),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb),
    ses: new SESv2Client(awsClientConfig({ region, endpoint: mailEndpoint, credentials })),
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
