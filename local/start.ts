import { ConfigError } from '../domain/config.js';
import { loadLocalConfig, PORT_VARIABLES } from './config.js';
import { settings } from '../platform/settings.js';
import { JournalInUseError } from './queue-journal.js';
import { PortUnavailableError, startLocalStack, type LocalStack } from './stack.js';

let config;
try {
  config = loadLocalConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // One problem (two ports that clash, say) is one line.
  console.error(error.problems.length === 1 ? `Invalid ${error.source} configuration: ${error.problems[0]}` : error.message);
  process.exit(2);
}

let stack: LocalStack;
try {
  stack = await startLocalStack({
    stateDir: config.LOCAL_STATE_DIR,
    ports: { web: config.PORT, api: config.API_PORT, sqs: config.SQS_PORT, dynamodb: config.DYNAMODB_PORT, cognito: config.COGNITO_PORT, ses: config.SES_PORT, console: config.CONSOLE_PORT },
    apiKey: config.API_KEY,
    profile: config.LOCAL_PROFILE,
    queueType: config.QUEUE_TYPE,
    adminEmail: config.ADMIN_EMAIL,
    adminOrderMail: config.ADMIN_ORDER_MAIL,
    smtpUrl: config.SMTP_URL,
    logLevel: config.LOG_LEVEL,
    allowedHosts: config.ALLOWED_HOSTS,
    webEnv: process.env,
    print: (line) => console.log(line),
  });
} catch (error) {
  if (error instanceof JournalInUseError) {
    console.error(`LOCAL_STATE_DIR=${config.LOCAL_STATE_DIR}: the state folder is in use by process ${error.pid} (another npm start?); stop it, or set LOCAL_STATE_DIR to another folder.`);
    process.exit(2);
  }
  if (!(error instanceof PortUnavailableError)) throw error;
  const variable = PORT_VARIABLES[error.part];
  console.error(`${variable}=${error.port}: the port is ${error.reason}${error.reason === 'in use' ? ' (another npm start?)' : ''}; set ${variable} to a free port.`);
  process.exit(2);
}

const { urls, profile, restored, resources } = stack;
console.log(`
Order pipeline running locally (profile: ${profile.name})

  Order form   ${urls.web}
  Console      ${urls.console}   (queues, DLQ, alarm, orders, mail)
  API          ${urls.api}   (header x-api-key: ${stack.apiKey})
  SQS + SNS    ${urls.sqs}   (region ${settings.region}, any credentials; AWS SDKs and the aws CLI only)
  DynamoDB     ${urls.dynamodb}   (the same)
  Cognito      ${urls.cognito}   (user pool ${stack.userPool.userPoolId}, app client ${stack.userPool.clientId})
  SES          ${urls.ses}   (every mail lands in ${stack.mailDir})
  State        ${stack.stateDir}   (mail in ${stack.mailDir})

  Queue "${resources.queue.name}" (${resources.queueType}${resources.queueType === 'fifo' ? ', one group per customer' : ''}): visibility ${profile.visibilityTimeoutSeconds} s, to "${resources.deadLetterQueue.name}" after ${settings.queue.maxReceiveCount} receives.
  Queues kept in ${stack.stateDir}/queues: ${restored.restored} message${restored.restored === 1 ? '' : 's'} put back from the last run${restored.carriedOver ? `, ${restored.carriedOver} moved over from the queues of the other queue type` : ''}${restored.expired ? `, ${restored.expired} past their retention dropped` : ''}.
  Alarm "${settings.names.dlqAlarm}": every ${profile.alarmPeriodSeconds} s, mails ${config.ADMIN_EMAIL}${config.ADMIN_ORDER_MAIL ? ', who is also mailed every order' : ''}.
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
