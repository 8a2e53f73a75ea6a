import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from '../frontend/app.js';
import { loadConfig } from '../frontend/config.js';
import { serve, serverUrl, stopServer } from '../frontend/lifecycle.js';
import { createEventFeed } from '../frontend/order-events.js';
import { createWebDeps } from '../frontend/wiring.js';
import type { LocalUserPool } from './cognito.js';

/** The web tier as server.ts runs it on EC2, but in this process, in front of the local API. */
export async function startWebTier({ apiUrl, apiKey, userPool, host, server, env, allowedHosts, events, logger }: {
  apiUrl: string;
  apiKey: string;
  /** cognito-local's endpoint, pool and app client, which the web tier signs customers in with. */
  userPool: LocalUserPool & { endpoint: string };
  host: string;
  /** Listening already (lifecycle's listen): the stack needs the shop's address before the web tier is made. */
  server: Server;
  env: Readonly<Record<string, string | undefined>>;
  /** The host names the shop answers to here (each at its own port). */
  allowedHosts: readonly string[];
  /** order-events and the clients to reach it: the web tier's own queue on the local fauxqs, as on AWS. */
  events: { sqs: SQSClient; sns: SNSClient; topicArn: string };
  logger: Logger;
}): Promise<{ url: string; stop(): Promise<void> }> {
  // No load balancer in front here: X-Forwarded-For is never believed, whatever the environment says.
  const config = loadConfig({ ...env, API_BASE_URL: apiUrl, API_KEY: apiKey, PORT: String((server.address() as AddressInfo).port), HOST: host,
    COGNITO_ENDPOINT: userPool.endpoint,
    COGNITO_USER_POOL_ID: userPool.userPoolId,
    COGNITO_CLIENT_ID: userPool.clientId,
    COGNITO_ISSUER: userPool.issuer, ALLOWED_HOSTS: allowedHosts.join(','), TRUST_PROXY_HOPS: '0' });
  const webLogger = logger.child({ service: 'web' });
  const feed = createEventFeed({ ...events, queuePrefix: config.EVENT_QUEUE_PREFIX, staleAfterMs: config.EVENT_QUEUE_STALE_SECONDS * 1000, logger: webLogger });
  await feed.start();
  const app = createApp({ ...createWebDeps(config, apiKey, webLogger, { events: feed }), config, logger: webLogger });
  serve(app, server);
  return {
    url: serverUrl(server),
    async stop() {
      await stopServer(app, server, 2000);
      await feed.stop();
    },
  };
}
