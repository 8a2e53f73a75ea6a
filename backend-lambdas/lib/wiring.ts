import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Catalogue } from '../../domain/catalogue.js';

/** The SDK clients a function may use; each Lambda's handler.ts builds only those it needs. */
export interface AwsClients {
  sqs: SQSClient;
  sns: SNSClient;
  documents: DynamoDBDocumentClient;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** What a host other than Lambda (the local stack, a test) may put in place of the defaults. */
export interface WiringOptions {
  logger?: Logger;
  clock?: () => Date;
  catalogue?: Catalogue;
}

/**
 * Builds a function's handler from its environment (validated once, failing with every bad key
 * named) and its clients: handler.ts does it from process.env on Lambda, the local stack from the
 * resources it made.
 */
export type Wiring<Client extends keyof AwsClients, Handler> = (env: Environment, clients: Pick<AwsClients, Client>, options?: WiringOptions) => Handler;
