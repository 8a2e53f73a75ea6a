// npm start as a developer runs it: Ctrl-C, kill -9, a restart on the same state folder, and the
// one-line answers when its ports cannot be had. Must show 2 of issue 11 is the first test.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { simpleParser } from 'mailparser';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, startScriptNodeFlags, startStackProcess, stackPorts, type StackPorts, type StackProcess } from '../helpers/stack-process.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const portEnv = (ports: StackPorts) => Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)]));

const running = new Set<StackProcess>();
afterAll(() => {
  for (const stack of running) stack.signal('SIGKILL');
});

async function start(env: Record<string, string>): Promise<StackProcess> {
  const stack = await startStackProcess(env);
  running.add(stack);
  void stack.exited.then(() => running.delete(stack));
  return stack;
}

async function depth(sqs: SQSClient, queueName: string): Promise<number> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** `npm run dlq -- list --local`, as the README's walkthrough runs it, against these ports. */
async function listDlq(ports: StackPorts): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'ops/dlq.ts', 'list', '--local'], { cwd: root, env: { ...process.env, SQS_PORT: String(ports.SQS_PORT), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  return stdout;
}

async function mailSubjects(mailDir: string): Promise<string[]> {
  const files = (await readdir(mailDir).catch(() => [] as string[])).filter((file) => file.endsWith('.eml'));
  return Promise.all(files.map(async (file) => (await simpleParser(await readFile(join(mailDir, file)))).subject ?? ''));
}

describe('npm start across Ctrl-C and kill -9', () => {
  it('when a poison message waits in the DLQ and a mail is unsent (SMTP down), then both are there after Ctrl-C and a restart, and again after kill -9 and a restart, where the mail is sent once', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'orders-restart-'));
    const ports = await stackPorts();
    const [deadSmtpPort] = await freePorts(1);
    const env = { ...portEnv(ports), LOCAL_STATE_DIR: stateDir };
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.SQS_PORT}`, credentials });
    const sns = new SNSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${ports.SQS_PORT}`, credentials });
    const mailDir = join(stateDir, 'mail');
    const poison = `not an order ${randomUUID()}`;
    const subject = `Held mail ${randomUUID().slice(0, 8)}`;
    try {
      // Nothing listens on the SMTP port: every mail fails to send and stays on the delivery queue.
      const first = await start({ ...env, SMTP_URL: `smtp://127.0.0.1:${deadSmtpPort}` });
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: poison }));
      await waitFor(async () => (await depth(sqs, 'orders-dlq')) === 1, { timeoutMs: 40_000, intervalMs: 250, what: 'the poison message to reach the DLQ after 5 receives' });
      const opsTopic = `arn:aws:sns:us-east-1:000000000000:ops-alarms`;
      await sns.send(new PublishCommand({ TopicArn: opsTopic, Subject: subject, Message: 'A mail the SMTP server was down for.' }));
      await waitFor(async () => (await depth(sqs, 'local-email-delivery')) >= 1, { what: 'the mail to wait on its queue' });
      const before = await listDlq(ports);
      expect(before).toContain('1 message in orders-dlq');
      expect(before).toContain(`body      ${poison}`);
      const poisonId = /message {3}(\S+)/.exec(before)?.[1];

      // Ctrl-C: a clean stop, and nothing printed but the goodbye.
      first.signal('SIGINT');
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('Stopping the local stack...');
      expect(first.output()).not.toMatch(/polling the queue failed|\n\s+at |Error/);

      const second = await start({ ...env, SMTP_URL: `smtp://127.0.0.1:${deadSmtpPort}` });
      expect(second.restoredMessages).toBeGreaterThanOrEqual(2);
      const afterCtrlC = await listDlq(ports);
      expect(afterCtrlC).toContain('1 message in orders-dlq');
      expect(afterCtrlC).toContain(`message   ${poisonId}`);
      expect(await depth(sqs, 'local-email-delivery')).toBeGreaterThanOrEqual(1);
      expect(await mailSubjects(mailDir)).not.toContain(subject);

      // kill -9 of the whole process group, then a start with a working outbox (no SMTP).
      second.signal('SIGKILL');
      expect(await second.exited).toBe('SIGKILL');
      const third = await start(env);
      const afterKill = await listDlq(ports);
      expect(afterKill).toContain('1 message in orders-dlq');
      expect(afterKill).toContain(`message   ${poisonId}`);
      await waitFor(async () => (await mailSubjects(mailDir)).includes(subject), { timeoutMs: 20_000, what: 'the held mail to be written' });
      await waitFor(async () => (await depth(sqs, 'local-email-delivery')) === 0, { what: 'the mail queue to drain' });
      expect((await mailSubjects(mailDir)).filter((mailed) => mailed === subject)).toHaveLength(1);
      console.log(`Restarts: Ctrl-C then ${second.startMs} ms to the banner (${second.restoredMessages} messages put back); kill -9 then ${third.startMs} ms (${third.restoredMessages} put back)`);
      third.signal('SIGINT');
      expect(await third.exited).toBe(0);
    } finally {
      sqs.destroy();
      sns.destroy();
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** npm start's command, expected to stop at once: its exit code and what it printed. */
function startAndFail(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...startScriptNodeFlags(), '--import', 'tsx', 'local/start.ts'], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm start and its ports', () => {
  it('when a port it needs is in use, then it stops with one line that names the variable and the port', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'orders-ports-'));
    const ports = await stackPorts();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(ports.CONSOLE_PORT, '127.0.0.1', resolve));
    try {
      const { code, stdout, stderr } = await startAndFail({ ...portEnv(ports), LOCAL_STATE_DIR: stateDir });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`CONSOLE_PORT=${ports.CONSOLE_PORT}: the port is in use (another npm start?); set CONSOLE_PORT to a free port.\n`);
    } finally {
      holder.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('when another npm start already runs on the same state folder, then it stops with one line naming the folder and that process, and the first runs on', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'orders-twice-'));
    const first = await start({ ...portEnv(await stackPorts()), LOCAL_STATE_DIR: stateDir });
    try {
      const { code, stderr } = await startAndFail({ ...portEnv(await stackPorts()), LOCAL_STATE_DIR: stateDir });
      expect(code).toBe(2);
      expect(stderr).toBe(`LOCAL_STATE_DIR=${stateDir}: the state folder is in use by process ${first.pid} (another npm start?); stop it, or set LOCAL_STATE_DIR to another folder.\n`);
      first.signal('SIGINT');
      expect(await first.exited).toBe(0);
    } finally {
      first.signal('SIGKILL');
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('when two configured ports are the same, then it stops with one line naming both variables and the port', async () => {
    const ports = await stackPorts();
    const { code, stderr } = await startAndFail({ ...portEnv(ports), API_PORT: String(ports.PORT) });
    expect(code).toBe(2);
    expect(stderr).toBe(`Invalid local stack configuration: API_PORT: ${ports.PORT} is also PORT; give each part its own port\n`);
  }, 60_000);
});
