// The local stack as `npm start` runs it: its own process (and process group), configured only by
// its environment, so a test can Ctrl-C it, kill -9 it, and start it again on the same state folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { settings } from '../../platform/settings.js';

const root = new URL('../..', import.meta.url).pathname;

/** The node flags `npm start` gives the local stack (its heap limit, the warnings it leaves out), so tests and the bench run it as a user does. */
export function startScriptNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return (scripts.start ?? '').split(/\s+/).filter((word) => /^--[a-z-]+=\S+$/.test(word));
}

/** The ports `npm start` takes, by their variables. */
export type StackPorts = Record<'PORT' | 'API_PORT' | 'SQS_PORT' | 'DYNAMODB_PORT' | 'CONSOLE_PORT' | 'COGNITO_PORT' | 'SES_PORT', number>;

/** What a web process needs to subscribe a queue of its own to a local stack's order-events, as the IaC gives it on AWS. */
export function eventsEnvOf({ sqsUrl, topicArn }: { sqsUrl: string; topicArn: string }): Record<string, string> {
  return { ORDER_EVENTS_TOPIC_ARN: topicArn, AWS_ENDPOINT_URL_SQS: sqsUrl, AWS_ENDPOINT_URL_SNS: sqsUrl, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: settings.region };
}

/** `count` ports that were free a moment ago, all different. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<Server>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export async function stackPorts(): Promise<StackPorts> {
  const [PORT, API_PORT, SQS_PORT, DYNAMODB_PORT, CONSOLE_PORT, COGNITO_PORT, SES_PORT] = (await freePorts(7)) as [number, number, number, number, number, number, number];
  return { PORT, API_PORT, SQS_PORT, DYNAMODB_PORT, CONSOLE_PORT, COGNITO_PORT, SES_PORT };
}

export interface StackProcess {
  readonly pid: number;
  /** Everything it printed so far, stdout and stderr. */
  readonly output: () => string;
  /** Resolves with the exit code (or the signal's name) once it has exited. */
  readonly exited: Promise<number | string>;
  /** How long from spawn until it printed its banner. */
  readonly startMs: number;
  /** Messages the banner says were put back from the queues' journal. */
  readonly restoredMessages: number;
  /** Sends a signal to the whole process group, as a terminal's Ctrl-C (SIGINT) or kill -9 -<pgid> does. */
  signal(signal: NodeJS.Signals): void;
}

/** Spawns `npm start`'s command (its node flags, no npm in between) and waits for its banner. */
export async function startStackProcess(env: Record<string, string>, { timeoutMs = 60_000 } = {}): Promise<StackProcess> {
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, [...startScriptNodeFlags(), '--import', 'tsx', 'local/start.ts'], {
    cwd: root,
    // Its own process group, so a signal reaches it and anything it started, as in a terminal.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOCAL_PROFILE: 'fast', LOG_LEVEL: 'silent', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // Already gone.
    }
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      reject(new Error(`the stack did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const watch = () => {
      if (!output.includes('Ctrl-C stops everything.')) return;
      clearTimeout(timer);
      child.stdout!.off('data', watch);
      resolve();
    };
    child.stdout!.on('data', watch);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${code}) before it started:\n${output}`));
    });
  });
  const startMs = Date.now() - started;
  const restoredMessages = Number(/: (\d+) messages? put back/.exec(output)?.[1] ?? NaN);
  return { pid: child.pid!, output: () => output, exited, startMs, restoredMessages, signal };
}
