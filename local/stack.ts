import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogLevel as PowertoolsLevel } from '@aws-lambda-powertools/logger/types';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pino, type Level } from 'pino';
import { createGetOrderHandler } from '../backend-lambdas/get-order/get-order.js';
import { createProcessOrderHandler } from '../backend-lambdas/process-order/process-order.js';
import { createSubmitOrderHandler } from '../backend-lambdas/submit-order/submit-order.js';
import type { Catalogue } from '../domain/catalogue.js';
import { createApp } from '../frontend/app.js';
import { loadConfig as loadWebConfig } from '../frontend/config.js';
import { serverUrl, startServer, stopServer } from '../frontend/lifecycle.js';
import { createOrderApi } from '../frontend/order-api.js';
import { startAlarmEvaluator, type AlarmEvaluator } from './alarm.js';
import { createConsoleApp } from './console/console.js';
import { createApiGateway } from './api-gateway.js';
import { createLocalClients, destroyClients, type LocalClients } from './clients.js';
import { restartable, startQueueEmulator, startTableEmulator } from './emulators.js';
import { startEventSourceMapping, type EventSourceMapping, type SqsBatchHandler } from './event-source-mapping.js';
import { startMailDelivery } from './mail.js';
import { createResources, type LocalResources } from './resources.js';
import { profiles, settings, type Profile, type ProfileName } from './settings.js';

export interface LocalStackOptions {
  stateDir: string;
  host?: string;
  /** 0 picks a free port. */
  /** 0 picks a free port; a console port left out means no console. */
  ports?: { web?: number; api?: number; sqs?: number; dynamodb?: number; console?: number };
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
  catalogue?: Catalogue;
  /** False starts the stack with the event source mapping disabled (see faults.startProcessing). */
  processOrders?: boolean;
  /** The pollers' long-poll wait, 20 s as Lambda's; shorter makes disabling the mapping quicker. */
  pollWaitSeconds?: number;
  /** False leaves order-events without the admin's email subscription, as Terraform does by default. */
  orderEventsEmail?: boolean;
  /** Lets a test put a fault between the event source mapping and process-order. */
  wrapProcessOrder?: (handler: SqsBatchHandler) => SqsBatchHandler;
}

export interface LocalStack {
  urls: { web: string; api: string; sqs: string; dynamodb: string; console?: string };
  apiKey: string;
  stateDir: string;
  mailDir: string;
  profile: Profile;
  resources: LocalResources;
  clients: LocalClients;
  alarm: AlarmEvaluator;
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

const POWERTOOLS_LEVEL: Record<Level | 'silent', PowertoolsLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'CRITICAL',
  silent: 'SILENT',
};

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  return `http://${host}:${address.port}`;
}

/**
 * The whole pipeline in this process: emulators, the resources Terraform would create, the API
 * Gateway adapter, the SQS event source mapping, the DLQ alarm, mail delivery and the web tier.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const ports = { web: 0, api: 0, sqs: 0, dynamodb: 0, ...options.ports };
  let consoleUrl: string | undefined;
  const apiKey = options.apiKey ?? 'local-dev-key';
  const profile = typeof options.profile === 'object' ? options.profile : profiles[options.profile ?? 'default'];
  const stateDir = resolve(options.stateDir);
  const mailDir = join(stateDir, 'mail');
  const logLevel = options.logLevel ?? 'warn';
  const logger = pino({ level: logLevel });
  const lambdaLogger = (serviceName: string) => new PowertoolsLogger({ serviceName, logLevel: POWERTOOLS_LEVEL[logLevel] });
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
    const queues = await restartable((port) => startQueueEmulator(host, port), ports.sqs);
    stops.push(() => queues.stop());
    const tables = await restartable((port) => startTableEmulator(host, port, join(stateDir, 'dynamodb')), ports.dynamodb);
    stops.push(() => tables.stop());
    const clients = createLocalClients(queues.endpoint, tables.endpoint);
    stops.push(() => destroyClients(clients));
    const adminEmail = options.adminEmail ?? 'admin@example.com';
    const resources = await createResources(clients, profile, adminEmail, { orderEventsEmail: options.orderEventsEmail !== false });

    const mail = await startMailDelivery({
      sqs: clients.sqsPolling,
      sns: clients.sns,
      queue: resources.mailQueue,
      mailDir,
      logger,
      smtpUrl: options.smtpUrl,
      print: options.print ?? (() => undefined),
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

    const processLogger = lambdaLogger('process-order');
    const wrap = options.wrapProcessOrder ?? ((handler: SqsBatchHandler) => handler);
    const startMapping = () => startEventSourceMapping({
      sqs: clients.sqsPolling,
      ...(options.pollWaitSeconds !== undefined ? { waitTimeSeconds: options.pollWaitSeconds } : {}),
      queue: resources.queue,
      functionName: 'process-order',
      logger,
      createHandler: () =>
        wrap(
          createProcessOrderHandler({
            ddb: clients.documents,
            tableName: resources.tableName,
            sns: clients.sns,
            topicArn: resources.topics.orderEvents,
            logger: processLogger,
            ...(options.catalogue ? { catalogue: options.catalogue } : {}),
          }),
        ),
    });
    let mapping: EventSourceMapping | undefined = options.processOrders === false ? undefined : startMapping();
    stops.push(() => mapping?.stop());

    const api = createServer(
      createApiGateway({
        apiKey,
        maxBodyBytes: settings.api.maxBodyBytes,
        throttle: options.throttle ?? { rateLimit: settings.api.throttleRateLimit, burstLimit: settings.api.throttleBurstLimit },
        stageName: settings.api.stageName,
        logger,
        routes: [
          {
            method: 'POST',
            resource: '/orders',
            functionName: 'submit-order',
            handler: createSubmitOrderHandler({
              sqs: clients.sqs,
              queueUrl: resources.queue.url,
              logger: lambdaLogger('submit-order'),
              ...(options.catalogue ? { catalogue: options.catalogue } : {}),
            }),
          },
          {
            method: 'GET',
            resource: '/orders/{id}',
            functionName: 'get-order',
            handler: createGetOrderHandler({ ddb: clients.documents, tableName: resources.tableName, logger: lambdaLogger('get-order') }),
          },
        ],
      }),
    );
    const apiUrl = await listen(api, ports.api, host);
    stops.push(
      () =>
        new Promise<void>((done) => {
          api.close(() => done());
          api.closeAllConnections();
        }),
    );

    const webConfig = loadWebConfig({ ...options.webEnv, API_BASE_URL: apiUrl, API_KEY: apiKey, PORT: String(ports.web), HOST: host });
    const app = createApp({
      api: createOrderApi({ baseUrl: webConfig.API_BASE_URL, apiKey, timeoutMs: webConfig.API_TIMEOUT_MS }),
      config: webConfig,
      logger: logger.child({ service: 'web' }),
      ...(options.catalogue ? { catalogue: options.catalogue } : {}),
    });
    const web = await startServer(app, webConfig.PORT, host);
    stops.push(() => stopServer(app, web, 2000));

    if (ports.console !== undefined) {
      const consoleApp = createConsoleApp({ clients, resources, alarm, queueEndpoint: queues.endpoint, mailDir, logger });
      const consoleServer = await startServer(consoleApp, ports.console, host);
      consoleUrl = serverUrl(consoleServer);
      stops.push(() => stopServer(consoleApp, consoleServer, 1000));
    }

    return {
      urls: { web: serverUrl(web), api: apiUrl, sqs: queues.endpoint, dynamodb: tables.endpoint, ...(consoleUrl ? { console: consoleUrl } : {}) },
      apiKey,
      stateDir,
      mailDir,
      profile,
      resources,
      clients,
      alarm,
      faults: {
        stopQueueEmulator: () => queues.stop(),
        async startQueueEmulator() {
          // The emulator keeps nothing across a restart: its queues and topics are made again, as they were.
          await queues.start();
          await createResources(clients, profile, adminEmail, { orderEventsEmail: options.orderEventsEmail !== false });
        },
        stopTableEmulator: () => tables.stop(),
        startTableEmulator: () => tables.start(),
        async stopProcessing() {
          const stopping = mapping;
          mapping = undefined;
          await stopping?.stop({ graceful: true });
        },
        startProcessing() {
          mapping ??= startMapping();
        },
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
