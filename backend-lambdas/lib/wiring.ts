import type { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { Catalogue, Menu } from '../../domain/catalogue.js';
import type { MetricsRecorder } from './observability.js';

/** The SDK clients a function may use; each Lambda's handler.ts builds only those it needs. */
export interface AwsClients {
  sqs: SQSClient;
  sns: SNSClient;
  documents: DynamoDBDocumentClient;
  ses: SESv2Client;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** A Lambda handler as a host invokes it. */
export type LambdaHandler<Event, Result> = (event: Event, context: Context) => Promise<Result>;

/** What handler.ts adds on Lambda (the tracer), and what another host (the local stack, a test) may put in place of the defaults. */
export interface WiringOptions {
  logger?: Logger;
  /** Powertools Metrics by default, in the namespace POWERTOOLS_METRICS_NAMESPACE names. */
  metrics?: MetricsRecorder;
  tracer?: Tracer;
  clock?: () => Date;
  /** The menu every function of a host reads, so a change one makes is seen by all at once (the local stack's). */
  menu?: Menu;
  /** What process-order prices a line queued without its price with: the seed menu unless a test gives another. */
  catalogue?: Catalogue;
}

/**
 * Builds a function's handler from its environment (validated once, failing with every bad key
 * named) and its clients: handler.ts does it from process.env on Lambda, the local stack from the
 * resources it made.
 */
export type Wiring<Client extends keyof AwsClients, Handler> = (env: Environment, clients: Pick<AwsClients, Client>, options?: WiringOptions) => Handler;
