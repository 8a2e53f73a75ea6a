// moto_server for the iac tests: one server a test file, on a free port of 127.0.0.1, in its own
// process group so that stopping it leaves nothing behind.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { waitFor } from '../helpers/wait.js';
import { findExecutable } from '../helpers/requirements.js';

export interface Moto {
  endpoint: string;
  stop(): void;
}

/** Credentials moto accepts (any would do); never real ones. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** Why moto cannot run here, or undefined when it can. */
export function motoMissing(): string | undefined {
  return findExecutable('moto_server') ? undefined : 'moto_server is not on PATH (pip install "moto[server]")';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts moto_server and resolves once it answers; `env` adds to the environment it runs with. */
export async function startMoto({ env = {} }: { env?: NodeJS.ProcessEnv } = {}): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { env: { ...process.env, ...env }, detached: true, stdio: 'ignore' });
  // Stopped by stop(), not by waiting for it: a server still shutting down does not hold jest open.
  child.unref();
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  };
  try {
    await waitFor(async () => (await fetch(`${endpoint}/moto-api/`)).ok, { timeoutMs: 30_000, intervalMs: 250, what: 'moto_server to answer' });
  } catch (error) {
    stop();
    throw error;
  }
  return { endpoint, stop };
}
