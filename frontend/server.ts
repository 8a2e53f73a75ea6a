import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { pino } from 'pino';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { nodeTooOld, startServer, stopServer } from './lifecycle.js';
import { createWebDeps } from './wiring.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL });
// An instance whose nodejs22 package is older says so once and stops, rather than failing its first requests.
const tooOld = nodeTooOld(process.versions.node);
if (tooOld) {
  logger.fatal(tooOld);
  process.exit(1);
}

/** The API key lives in SSM Parameter Store, never in user data or the environment of a deployed instance. */
async function readApiKey(): Promise<string> {
  if (config.API_KEY) return config.API_KEY;
  const ssm = new SSMClient(config.AWS_REGION ? { region: config.AWS_REGION } : {});
  const result = await ssm.send(new GetParameterCommand({ Name: config.API_KEY_PARAMETER, WithDecryption: true }));
  const value = result.Parameter?.Value;
  if (!value) throw new Error(`SSM parameter ${config.API_KEY_PARAMETER} has no value`);
  return value;
}

const deps = createWebDeps(config, await readApiKey(), logger);
// Subscribed before the first page is served, so no page waits on an event sent before its queue was there.
try {
  await deps.events.start();
} catch (error) {
  // pm2 starts the process again; the log says why (most often the role lacks a permission, or SQS is unreachable).
  logger.fatal({ err: error }, 'could not subscribe this process to order events');
  process.exit(1);
}
const app = createApp({ ...deps, config, logger });
const server = await startServer(app, config.PORT, config.HOST);
logger.info({ port: config.PORT, host: config.HOST }, 'web tier listening');
// pm2 (wait_ready) only routes traffic to this worker, and only stops the old one on reload, after this.
process.send?.('ready');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining connections before exit');
  await stopServer(app, server, config.SHUTDOWN_TIMEOUT_MS);
  await deps.events.stop();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
