import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogLevel as PowertoolsLevel } from '@aws-lambda-powertools/logger/types';
import { join, resolve } from 'node:path';
import { pino, type Level } from 'pino';
import { createOrderStore, type OrderStore } from '../backend-lambdas/lib/order-store.js';
import { fixedMenu, type Catalogue } from '../domain/catalogue.js';
import { tableMenu } from '../backend-lambdas/lib/product-store.js';
import type { FunctionName } from '../platform/functions.js';
import { queueNames, settings, type QueueType } from '../platform/settings.js';
import { startAlarmEvaluator, type AlarmEvaluator } from './alarm.js';
import { startApiGateway } from './api-gateway.js';
import { createLocalClients, destroyClients, type LocalClients } from './clients.js';
import { startConsole } from './console/console.js';
import { LOOPBACK_HOST_NAMES, parseHostRules } from '../frontend/request-origin.js';
import type { PortName } from './config.js';
import { restartable, startQueueEmulator, startTableEmulator, type QueueInspection, type RestoreReport } from './emulators.js';
import { loadFunctions, type FunctionWrappers } from './functions.js';
import { createInvoker } from './invocation.js';
import { createMetricsTally, type MetricsTally } from './observability.js';
import { createCognitoAuthorizer } from './authorizer.js';
import { startCognito, type LocalUserPool } from './cognito.js';
import { startMailDelivery } from './mail.js';
import { createOutbox, type Outbox } from './outbox.js';
import { profiles, type Profile, type ProfileName } from './profiles.js';
import { createResources, type LocalResources } from './resources.js';
import { startSesEmulator } from './ses.js';
import { startTriggers } from './triggers.js';
import { listen, serverUrl } from '../frontend/lifecycle.js';
import { startWebTier } from './web-tier.js';

export interface LocalStackOptions {
  stateDir: string;
  host?: string;
  /** 0 picks a free port; a console port left out means no console. */
  ports?: { web?: number; api?: number; sqs?: number; dynamodb?: number; cognito?: number; ses?: number; console?: number };
  apiKey?: string;
  profile?: ProfileName | Profile;
  adminEmail?: string;
  smtpUrl?: string | undefined;
  logLevel?: Level | 'silent';
  /** Where the stack's own one-line notices (mail) go. */
  print?: (line: string) => void;
  /** Web tier settings (rate limits, timeouts) as environment variables. */
  webEnv?: Readonly<Record<string, string | undefined>>;
  throttle?: { rateLimit: number; burstLimit: number };
  /** A fixed menu in place of the products table's, which process-order also prices unpriced (older) messages from. */
  catalogue?: Catalogue;
  /** False starts the stack with the event source mappings disabled (see faults.startProcessing). */
  processOrders?: boolean;
  /** False leaves scheduled functions (the kitchen) to `invoke`. */
  runSchedules?: boolean;
  /** The pollers' long-poll wait, 20 s as Lambda's; shorter makes disabling the mapping quicker. */
  pollWaitSeconds?: number;
  /** True mails the admin every order received (order-events' email subscription); off by default, as in Terraform. */
  adminOrderMail?: boolean;
  /** Lets a test put a fault between a function's trigger and its handler. */
  wrap?: FunctionWrappers;
  /** Host names the local servers answer to besides loopback and *.localhost (ALLOWED_HOSTS). */
  allowedHosts?: readonly string[];
  /** False keeps the queues in memory only, as fauxqs alone does (the benchmark's comparison). */
  durableQueues?: boolean;
  /** The orders queue's type (QUEUE_TYPE): `standard`, as deployed by default, or `fifo`. */
  queueType?: QueueType;
}

/** A part of the stack could not listen on its port. */
export class PortUnavailableError extends Error {
  constructor(
    readonly part: PortName,
    readonly port: number,
    readonly reason: 'in use' | 'not permitted',
    options?: ErrorOptions,
  ) {
    super(`port ${port} (${part}) is ${reason}`, options);
    this.name = 'PortUnavailableError';
  }
}

/** Starts a part, turning a port it cannot listen on into a PortUnavailableError that names the part. */
async function onPort<T>(part: PortName, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') throw new PortUnavailableError(part, port, code === 'EADDRINUSE' ? 'in use' : 'not permitted', { cause: error });
    throw error;
  }
}

export interface LocalStack {
  urls: { web: string; api: string; sqs: string; dynamodb: string; cognito: string; ses: string; console?: string };
  apiKey: string;
  stateDir: string;
  mailDir: string;
  profile: Profile;
  resources: LocalResources;
  clients: LocalClients;
  /** The customers' user pool (cognito-local) and the web tier's app client. */
  userPool: LocalUserPool;
  /** Where every mail of the stack goes (mailDir). */
  outbox: Outbox;
  /** The orders table, through the same store the Lambdas use. */
  store: OrderStore;
  alarm: AlarmEvaluator;
  /** The business metrics every function has published, summed. */
  metrics: MetricsTally;
  /** What the queues' journal put back at start (all zero when the queues are not durable). */
  restored: RestoreReport;
  /** A queue's messages as the emulator holds them, without receiving any. */
  inspectQueue(name: string): QueueInspection | undefined;
  /** Invokes a function once, as `aws lambda invoke` does (the kitchen's staff commands, say). */
  invoke: (name: FunctionName, event: unknown) => Promise<unknown>;
  /** Take an emulator away and bring it back, as an outage would. */
  faults: {
    stopQueueEmulator(): Promise<void>;
    startQueueEmulator(): Promise<void>;
    stopTableEmulator(): Promise<void>;
    startTableEmulator(): Promise<void>;
    /** Disable and enable the SQS event source mapping, as `aws lambda update-event-source-mapping --no-enabled` does. */
    stopProcessing(): Promise<void>;
    startProcessing(): void;
  };
  stop(): Promise<void>;
}

/**
 * The other queue type's orders queue and DLQ, each to this type's: what they held when the last run
 * ended goes into these, so changing QUEUE_TYPE between runs loses no message.
 */
function carryOverFrom(queueType: QueueType): Record<string, string> {
  const [from, to] = [queueNames(queueType === 'fifo' ? 'standard' : 'fifo'), queueNames(queueType)];
  return { [from.queue]: to.queue, [from.deadLetterQueue]: to.deadLetterQueue };
}

const POWERTOOLS_LEVEL: Record<Level | 'silent', PowertoolsLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'CRITICAL',
  silent: 'SILENT',
};

/**
 * The whole pipeline in this process: emulators, the resources Terraform would create, every
 * declared function behind its trigger (API Gateway adapter, SQS event source mapping, schedule),
 * the DLQ alarm, mail delivery, the web tier and the console. Each part is started by its own
 * module; this only wires them together and stops them in reverse.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const ports = { web: 0, api: 0, sqs: 0, dynamodb: 0, cognito: 0, ses: 0, ...options.ports };
  const apiKey = options.apiKey ?? 'local-dev-key';
  const profile = typeof options.profile === 'object' ? options.profile : profiles[options.profile ?? 'default'];
  const stateDir = resolve(options.stateDir);
  const mailDir = join(stateDir, 'mail');
  const logLevel = options.logLevel ?? 'warn';
  const logger = pino({ level: logLevel });
  const adminEmail = options.adminEmail ?? 'admin@example.com';
  const resourceOptions = { adminOrderMail: options.adminOrderMail === true, queueType: options.queueType ?? settings.queue.type, logger };
  const hosts = parseHostRules([...LOOPBACK_HOST_NAMES, ...(options.allowedHosts ?? [])]);
  const journalFile = options.durableQueues === false ? undefined : join(stateDir, 'queues', 'journal.ndjson');
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    // Last started, first stopped; one part failing to stop must not leave the others running.
    for (let stop = stops.pop(); stop; stop = stops.pop()) {
      try {
        await stop();
      } catch (error) {
        logger.warn({ err: error }, 'a part of the local stack did not stop cleanly');
      }
    }
  };

  try {
    const queues = await onPort('sqs', ports.sqs, () => restartable((port) => startQueueEmulator(host, port, { logger, hosts, journalFile }), ports.sqs));
    stops.push(() => queues.stop());
    const tables = await onPort('dynamodb', ports.dynamodb, () => restartable((port) => startTableEmulator(host, port, join(stateDir, 'dynamodb'), { logger, hosts }), ports.dynamodb));
    stops.push(() => tables.stop());
    const outbox = await createOutbox({ mailDir, smtpUrl: options.smtpUrl, logger, print: options.print ?? (() => undefined) });
    stops.push(() => outbox.close());
    const mailService = await onPort('ses', ports.ses, () => startSesEmulator({ host, port: ports.ses, hosts, outbox, logger }));
    stops.push(() => mailService.stop());
    const cognito = await onPort('cognito', ports.cognito, () => startCognito({ host, port: ports.cognito, dataDir: join(stateDir, 'cognito'), outbox, logger, hosts }));
    stops.push(() => cognito.stop());
    const userPool: LocalUserPool = { userPoolId: cognito.userPoolId, clientId: cognito.clientId, issuer: cognito.issuer };
    const clients = createLocalClients(queues.endpoint, tables.endpoint, mailService.endpoint);
    stops.push(() => destroyClients(clients));
    const resources = await createResources(clients, profile, adminEmail, resourceOptions);
    // Before anything polls: what the queues held when the last run ended is there again.
    const restored = queues.current.restore({ carryOver: carryOverFrom(resourceOptions.queueType) });

    const mail = startMailDelivery({
      sqs: clients.sqsPolling,
      sns: clients.sns,
      queue: resources.mailQueue,
      outbox,
      logger,
    });
    stops.push(() => mail.stop());

    const alarm = startAlarmEvaluator({
      sqs: clients.sqs,
      sns: clients.sns,
      queue: resources.deadLetterQueue,
      topicArn: resources.topics.opsAlarms,
      periodSeconds: profile.alarmPeriodSeconds,
      logger,
    });
    stops.push(() => alarm.stop());

    // Listening before the functions are made: the mails link to the shop's address.
    const webServer = await onPort('web', ports.web, () => listen(ports.web, host));
    stops.push(async () => {
      // Stopped here only if the web tier never started (it stops its own server): the port is freed before stop() returns.
      if (!webServer.listening) return;
      const closed = new Promise((resolve) => webServer.close(resolve));
      webServer.closeAllConnections();
      await closed;
    });

    const metrics = createMetricsTally(logger.child({ service: 'metrics' }));
    const functions = await loadFunctions({
      resources,
      shopUrl: serverUrl(webServer),
      profile,
      clients,
      metrics,
      invoker: await createInvoker(logger.child({ service: 'lambda' })),
      logger: (serviceName) => new PowertoolsLogger({ serviceName, logLevel: POWERTOOLS_LEVEL[logLevel] }),
      // One menu for every function, as one process: a staff change empties it for all of them at once.
      overrides: options.catalogue
        ? { catalogue: options.catalogue, menu: fixedMenu(options.catalogue) }
        : { menu: tableMenu(clients.documents, resources.productsTableName) },
      ...(options.wrap ? { wrappers: options.wrap } : {}),
    });
    const triggers = startTriggers({
      functions,
      resources,
      profile,
      sqsPolling: clients.sqsPolling,
      logger,
      processQueues: options.processOrders !== false,
      runSchedules: options.runSchedules !== false,
      ...(options.pollWaitSeconds !== undefined ? { pollWaitSeconds: options.pollWaitSeconds } : {}),
      cognitoAuthorizer: await createCognitoAuthorizer(userPool),
    });
    stops.push(() => triggers.stop());

    const api = await onPort('api', ports.api, () => startApiGateway(
      {
        apiKey,
        maxBodyBytes: settings.api.maxBodyBytes,
        throttle: options.throttle ?? { rateLimit: settings.api.throttleRateLimit, burstLimit: settings.api.throttleBurstLimit },
        stageName: settings.api.stageName,
        logger,
        routes: triggers.routes,
        hosts,
      },
      ports.api,
      host,
    ));
    stops.push(() => api.stop());

    const web = await startWebTier({
      apiUrl: api.url, apiKey, userPool: { ...userPool, endpoint: cognito.endpoint }, host, server: webServer, env: options.webEnv ?? {}, allowedHosts: [...LOOPBACK_HOST_NAMES, ...(options.allowedHosts ?? [])],
      events: { sqs: clients.sqsPolling, sns: clients.sns, topicArn: resources.topics.orderEvents },
      logger,
    });
    stops.push(() => web.stop());

    const consolePort = ports.console;
    const console = consolePort === undefined
      ? undefined
      : await onPort('console', consolePort, () =>
          startConsole({ clients, resources, alarm, metrics, inspectQueue: (name) => queues.current.inspectQueue(name), mailDir, logger, invoke: triggers.invoke, hosts }, consolePort, host),
        );
    if (console) stops.push(() => console.stop());

    return {
      urls: { web: web.url, api: api.url, sqs: queues.endpoint, dynamodb: tables.endpoint, cognito: cognito.endpoint, ses: mailService.endpoint, ...(console ? { console: console.url } : {}) },
      apiKey,
      stateDir,
      mailDir,
      profile,
      resources,
      clients,
      userPool,
      outbox,
      store: createOrderStore({ documents: clients.documents, tableName: resources.tableName }),
      alarm,
      metrics,
      restored,
      inspectQueue: (name) => queues.current.inspectQueue(name),
      invoke: triggers.invoke,
      faults: {
        stopQueueEmulator: () => queues.stop(),
        async startQueueEmulator() {
          // Queues and topics are made again, as they were; then the journal puts their messages back.
          await queues.start();
          await createResources(clients, profile, adminEmail, resourceOptions);
          queues.current.restore({ carryOver: carryOverFrom(resourceOptions.queueType) });
        },
        stopTableEmulator: () => tables.stop(),
        startTableEmulator: () => tables.start(),
        stopProcessing: () => triggers.stopProcessing(),
        startProcessing: () => triggers.startProcessing(),
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
