import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Emulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** SQS and SNS on one endpoint (fauxqs); its state is in memory. */
export async function startQueueEmulator(host: string, port: number): Promise<Emulator> {
  // buildApp rather than startFauxqs: the latter always binds every interface.
  const app = buildApp({ logger: false, host: 'localhost' });
  await app.listen({ port, host });
  const { port: actualPort } = app.server.address() as AddressInfo;
  return { endpoint: `http://${host}:${actualPort}`, stop: () => app.close() };
}

/** DynamoDB (dynalite), kept on disk under `dataDir` so orders survive a restart. */
export async function startTableEmulator(host: string, port: number, dataDir: string): Promise<Emulator> {
  await mkdir(dataDir, { recursive: true });
  const server: Server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actualPort } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${actualPort}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** An emulator that can be stopped and started again on the same port, for fault tests. */
export interface RestartableEmulator extends Emulator {
  readonly running: boolean;
  start(): Promise<void>;
}

export async function restartable(startOn: (port: number) => Promise<Emulator>, port: number): Promise<RestartableEmulator> {
  let current: Emulator | undefined = await startOn(port);
  const endpoint = current.endpoint;
  const fixedPort = Number(new URL(endpoint).port);
  return {
    endpoint,
    get running() {
      return current !== undefined;
    },
    async start() {
      current ??= await startOn(fixedPort);
    },
    async stop() {
      const stopping = current;
      current = undefined;
      await stopping?.stop();
    },
  };
}
