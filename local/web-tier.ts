import type { Logger } from 'pino';
import type { Catalogue } from '../domain/catalogue.js';
import { createApp } from '../frontend/app.js';
import { loadConfig } from '../frontend/config.js';
import { serverUrl, startServer, stopServer } from '../frontend/lifecycle.js';
import { createOrderApi } from '../frontend/order-api.js';

/** The web tier as server.ts runs it on EC2, but in this process, in front of the local API. */
export async function startWebTier({ apiUrl, apiKey, host, port, env, logger, catalogue }: {
  apiUrl: string;
  apiKey: string;
  host: string;
  port: number;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  catalogue?: Catalogue;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const config = loadConfig({ ...env, API_BASE_URL: apiUrl, API_KEY: apiKey, PORT: String(port), HOST: host });
  const app = createApp({
    api: createOrderApi({ baseUrl: config.API_BASE_URL, apiKey, timeoutMs: config.API_TIMEOUT_MS }),
    config,
    logger: logger.child({ service: 'web' }),
    ...(catalogue ? { catalogue } : {}),
  });
  const server = await startServer(app, config.PORT, host);
  return { url: serverUrl(server), stop: () => stopServer(app, server, 2000) };
}
