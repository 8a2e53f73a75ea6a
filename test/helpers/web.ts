import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Express } from 'express';
import { createClient } from 'graphql-sse';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createApp } from '../../frontend/app.js';
import { loadConfig } from '../../frontend/config.js';
import { serverUrl, startServer, stopServer } from '../../frontend/lifecycle.js';
import { createWebDeps } from '../../frontend/wiring.js';
import type { LocalStack } from '../../local/stack.js';
import { signedInCustomer, WebClient } from './customers.js';
import { silentLogger } from './loggers.js';
import { eventsEnvOf, freePorts } from './stack-process.js';
import { waitFor } from './wait.js';

const root = new URL('../..', import.meta.url).pathname;

/** The cart version a cart page's checkout form carries (a second post of it is the same order). */
export function cartVersionOf(html: string): string {
  const match = /name="cart_version" value="(\d+)"/.exec(html);
  if (!match?.[1]) throw new Error('the page has no checkout form');
  return match[1];
}

/** The COGNITO_* settings the local stack gives its web tier (local/web-tier.ts): its cognito-local pool. */
export function cognitoEnvOf(stack: LocalStack): Record<string, string> {
  return {
    COGNITO_ENDPOINT: stack.urls.cognito,
    COGNITO_USER_POOL_ID: stack.userPool.userPoolId,
    COGNITO_CLIENT_ID: stack.userPool.clientId,
    COGNITO_ISSUER: stack.userPool.issuer,
  };
}

/**
 * A new account of the stack's pool (signed up through the stack's own web tier), signed in at
 * another web tier that uses the same pool (`startWeb` with `cognitoEnvOf(stack)`), whatever its API
 * does: the page after sign-in may be a 503, and it still carries the sign-out form's CSRF token.
 */
export async function signedInAt(stack: LocalStack, webUrl: string): Promise<WebClient> {
  const { email } = await signedInCustomer(stack);
  const client = new WebClient(webUrl);
  await client.signIn(email);
  if (!client.csrf) throw new Error(`no CSRF token after signing in at ${webUrl}`);
  return client;
}

/** The order id of a redirect to a status page (`/orders/<id>?placed=...`). */
export function orderIdOfLocation(location: string | null): string {
  const id = new URL(location ?? '', 'http://web.invalid').pathname.split('/').pop();
  if (!location || !id) throw new Error(`not a status page location: ${location}`);
  return id;
}

/** A web tier of its own, outside the shared stack, in front of the API at env's API_BASE_URL. */
export async function startWeb(env: Record<string, string>, logger: Logger = silentLogger()): Promise<{ server: Server; app: Express; url: string; stop(): Promise<void> }> {
  // Without a stack's pool: one whose endpoint does not answer, so no token is ever a session. A test is
  // one client making requests as fast as it can: the limit of a second is raised unless env sets it.
  const config = loadConfig({ API_KEY: 'k', PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_BURST_MAX: '100000', COGNITO_USER_POOL_ID: 'local_nopool', COGNITO_CLIENT_ID: 'noclient', COGNITO_ENDPOINT: 'http://127.0.0.1:9', COGNITO_ISSUER: 'http://127.0.0.1:9/local_nopool', ...env });
  const deps = createWebDeps(config, config.API_KEY ?? 'k', logger);
  await deps.events.start();
  const app = createApp({ ...deps, config, logger });
  const server = await startServer(app, 0, '127.0.0.1');
  return {
    server,
    app,
    url: serverUrl(server),
    async stop() {
      await stopServer(app, server, 1000);
      await deps.events.stop();
    },
  };
}

export interface WebProcess {
  url: string;
  child: ChildProcess;
  /** Everything it logged so far. */
  output(): string;
  /** SIGTERM, as pm2 stops it, and its exit. */
  stop(): Promise<void>;
}

/**
 * frontend/server.ts in a process of its own in front of the stack (its API, pool and order-events),
 * as one pm2 worker of an instance runs: a test can have two, and kill -9 one.
 */
export async function startWebProcess(stack: LocalStack, env: Record<string, string> = {}): Promise<WebProcess> {
  const [port] = (await freePorts(1)) as [number];
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'frontend', 'server.ts')], {
    cwd: root,
    env: { ...process.env, ...cognitoEnvOf(stack), ...eventsEnvOf({ sqsUrl: stack.urls.sqs, topicArn: stack.resources.topics.orderEvents }), API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => child.exitCode === null ? (await fetch(`${url}/healthz`)).ok : Promise.reject(new Error(`it exited: ${output.slice(-2000)}`)), { timeoutMs: 30_000, what: `the web process on ${port}` });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Every status a subscription yields, through graphql-sse's own client, until it completes; `seen`
 * (if given) gets each as it comes, with the time it came.
 */
export async function follow(url: string, id: string, waitSeconds?: number, seen: ({ status: string; version: number; at: number } | null)[] = []): Promise<({ status: string; version: number } | null)[]> {
  const client = createClient({ url: `${url}/graphql/stream` });
  const all: ({ status: string; version: number } | null)[] = [];
  try {
    for await (const result of client.iterate<{ orderStatus: { status: string; version: number } | null }>({
      query: 'subscription($id: OrderId!, $wait: Int) { orderStatus(id: $id, waitSeconds: $wait) { status version } }',
      variables: { id, ...(waitSeconds !== undefined ? { wait: waitSeconds } : {}) },
    })) {
      const order = result.data?.orderStatus ?? null;
      all.push(order);
      seen.push(order && { ...order, at: Date.now() });
    }
  } finally {
    client.dispose();
  }
  return all;
}
