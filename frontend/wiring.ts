import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { createAccounts } from './accounts.js';
import { cognitoIssuer, type WebConfig } from './config.js';
import { createIdTokenVerifier } from './id-token.js';
import { createOrderApi } from './order-api.js';
import { createEventFeed, type EventFeed } from './order-events.js';

/** No order events (no topic configured): status pages and the board hear of changes through their safety nets only. */
const noEvents: EventFeed = { listen: () => () => undefined, start: () => Promise.resolve(), stop: () => Promise.resolve() };

/**
 * This process's order events: a queue of its own on order-events (see order-events.ts). The SDK finds
 * the region, credentials (the instance's role) and, locally, endpoints (AWS_ENDPOINT_URL_SQS, _SNS) as usual.
 */
function eventFeedOf(config: WebConfig, logger: Logger): EventFeed {
  if (!config.ORDER_EVENTS_TOPIC_ARN) {
    logger.warn('ORDER_EVENTS_TOPIC_ARN is not set: status pages hear of changes only through their safety net (STATUS_SAFETY_NET_MS)');
    return noEvents;
  }
  // The topic's region (arn:aws:sns:<region>:...) is the queues' too.
  const region = config.ORDER_EVENTS_TOPIC_ARN.split(':')[3];
  // A long poll lasts 20 s: the requests' timeout must outlast it.
  const requestHandler = new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 25_000 });
  return createEventFeed({
    // The queue URLs an emulator answers may name a host of their own: the configured endpoint is the one to use.
    sqs: new SQSClient({ region, requestHandler, useQueueUrlAsEndpoint: false }),
    sns: new SNSClient({ region, requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 5_000 }) }),
    topicArn: config.ORDER_EVENTS_TOPIC_ARN,
    queuePrefix: config.EVENT_QUEUE_PREFIX,
    staleAfterMs: config.EVENT_QUEUE_STALE_SECONDS * 1000,
    logger,
  });
}

/** What createApp needs besides its config, built from the validated config and the API key. */
export function createWebDeps(config: WebConfig, apiKey: string, logger: Logger, { events }: { events?: EventFeed } = {}) {
  const pool = { userPoolId: config.COGNITO_USER_POOL_ID, clientId: config.COGNITO_CLIENT_ID, issuer: cognitoIssuer(config) };
  // A pool id begins with its region; the SDK needs one even for the unsigned calls.
  const region = config.AWS_REGION ?? config.COGNITO_USER_POOL_ID.split('_')[0] ?? 'us-east-1';
  return {
    api: createOrderApi({ baseUrl: config.API_BASE_URL, apiKey, timeoutMs: config.API_TIMEOUT_MS }),
    accounts: createAccounts({ clientId: pool.clientId, region, endpoint: config.COGNITO_ENDPOINT }),
    // An endpoint of its own is cognito-local (npm start), whose JWKS is served over http.
    verifyIdToken: createIdTokenVerifier(pool, { local: config.COGNITO_ENDPOINT !== undefined }),
    // Every instance has the API key already; a secret derived from it is the same on all of them.
    sessionSecret: config.CSRF_SECRET ?? createHmac('sha256', apiKey).update('web-tier csrf').digest('base64url'),
    events: events ?? eventFeedOf(config, logger),
  };
}
