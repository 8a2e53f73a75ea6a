import { ConfigError } from '../domain/config.js';
import { loadLocalConfig } from './config.js';
import { settings } from '../platform/settings.js';
import { startLocalStack } from './stack.js';

let config;
try {
  config = loadLocalConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const stack = await startLocalStack({
  stateDir: config.LOCAL_STATE_DIR,
  ports: { web: config.PORT, api: config.API_PORT, sqs: config.SQS_PORT, dynamodb: config.DYNAMODB_PORT, console: config.CONSOLE_PORT },
  apiKey: config.API_KEY,
  profile: config.LOCAL_PROFILE,
  adminEmail: config.ADMIN_EMAIL,
  smtpUrl: config.SMTP_URL,
  logLevel: config.LOG_LEVEL,
  webEnv: process.env,
  print: (line) => console.log(line),
});

const { urls, profile } = stack;
console.log(`
Order pipeline running locally (profile: ${profile.name})

  Order form   ${urls.web}
  Console      ${urls.console}   (queues, DLQ, alarm, orders, mail)
  API          ${urls.api}   (header x-api-key: ${stack.apiKey})
  SQS + SNS    ${urls.sqs}   (region ${settings.region}, any credentials)
  DynamoDB     ${urls.dynamodb}
  State        ${stack.stateDir}   (mail in ${stack.mailDir})

  Queue "${settings.names.queue}": visibility ${profile.visibilityTimeoutSeconds} s, to "${settings.names.deadLetterQueue}" after ${settings.queue.maxReceiveCount} receives.
  Alarm "${settings.names.dlqAlarm}": every ${profile.alarmPeriodSeconds} s, mails ${config.ADMIN_EMAIL}.
  Kitchen: every ${profile.scheduleEverySeconds ?? 60} s; an order is RECEIVED ${profile.lifecycleTimings.RECEIVED} s, PREPARING ${profile.lifecycleTimings.PREPARING} s, READY ${profile.lifecycleTimings.READY} s, then COMPLETED.

Ctrl-C stops everything.
`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  console.log('Stopping the local stack...');
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
