// npm run bench: intake, drain, cold start and memory, each against a baseline measured in the same
// run, in alternating rounds, reported as medians. Writes bench/results/latest.json.
// npm run bench -- --smoke: one short round of everything, no targets (run by npm test).
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const smoke = process.argv.includes('--smoke');
const plan = smoke
  ? { warmup: 0.5, duration: 1, rounds: 1, drainOrders: 200, steadyRate: 50, steadySeconds: 1, importRuns: 2 }
  : { warmup: 3, duration: 10, rounds: 3, drainOrders: 10_000, steadyRate: 200, steadySeconds: 10, importRuns: 30 };
const CONNECTIONS = 50;
const LAMBDAS = ['submit-order', 'process-order', 'get-order'] as const;
const FORM = 'customer_id=bench&product_id=Banana&quantity=1';
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

export const targets = {
  intakeVsRawSend: 0.6,
  intakeP99Ms: 100,
  intakeErrors: 0,
  drainVsBaseline: 0.7,
  steadyP99Ms: 1000,
  bundleBytes: 600 * 1024,
  importMs: 100,
  bundledVsUnbundled: 0.8,
  webRssMb: 150,
  stackRssMb: 500,
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const log = (line: string) => console.error(line);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** A child that says 'ready' over IPC once it listens. */
async function startChild(args: string[], childEnv: Record<string, string>): Promise<ChildProcess> {
  const child = fork(args[0]!, args.slice(1), { execArgv: ['--import', 'tsx'], env: { ...env, ...childEnv }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return child;
}

function stackClient(child: ChildProcess) {
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result as never);
  });
  return <T>(command: string, args: Record<string, number | string> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, command, args });
    });
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function cannon(options: autocannon.Options, expectedStatus: number): Promise<Load> {
  const result = await autocannon({ connections: CONNECTIONS, ...options });
  const good = (result.statusCodeStats as unknown as Record<string, { count: number }>)[String(expectedStatus)]?.count ?? 0;
  return { rps: result.requests.total / result.duration, p50: result.latency.p50, p99: result.latency.p99, errors: result.requests.total - good + result.errors + result.timeouts };
}

async function measureIntake(webUrl: string, bareExpressUrl: string, bareHttpUrl: string, call: ReturnType<typeof stackClient>) {
  const form = { method: 'POST' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM };
  const variants: Record<string, () => Promise<Load>> = {
    intake: () => cannon({ url: `${webUrl}/orders`, ...form, duration: plan.duration }, 303),
    rawSend: async () => {
      const { count, errors, seconds } = await call<{ count: number; errors: number; seconds: number }>('rawSend', { seconds: plan.duration, connections: CONNECTIONS });
      return { rps: count / seconds, p50: NaN, p99: NaN, errors };
    },
    bareExpress: () => cannon({ url: `${bareExpressUrl}/orders`, ...form, duration: plan.duration }, 303),
    bareHttp: () => cannon({ url: bareHttpUrl, duration: plan.duration }, 200),
  };
  const warmups: Record<string, () => Promise<unknown>> = {
    intake: () => cannon({ url: `${webUrl}/orders`, ...form, duration: plan.warmup }, 303),
    rawSend: () => call('rawSend', { seconds: plan.warmup, connections: CONNECTIONS }),
    bareExpress: () => cannon({ url: `${bareExpressUrl}/orders`, ...form, duration: plan.warmup }, 303),
    bareHttp: () => cannon({ url: bareHttpUrl, duration: plan.warmup }, 200),
  };
  const names = Object.keys(variants);
  const rounds: Record<string, Load[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < plan.rounds; round++) {
    // Each round starts with a different variant, so none always runs on the warmest (or most tired) machine.
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) {
      await warmups[name]!();
      await call('purge');
      const load = await variants[name]!();
      await call('purge');
      rounds[name]!.push(load);
      log(`  intake round ${round + 1}: ${name.padEnd(12)} ${load.rps.toFixed(0)} req/s, p99 ${load.p99} ms, errors ${load.errors}`);
    }
  }
  const summary = (loads: Load[]) => ({ rps: median(loads.map((l) => l.rps)), p50: median(loads.map((l) => l.p50)), p99: median(loads.map((l) => l.p99)), errors: loads.reduce((sum, l) => sum + l.errors, 0), rounds: loads.map((l) => Math.round(l.rps)), p99Rounds: loads.map((l) => l.p99) });
  return Object.fromEntries(names.map((name) => [name, summary(rounds[name]!)])) as Record<'intake' | 'rawSend' | 'bareExpress' | 'bareHttp', ReturnType<typeof summary>>;
}

async function measureDrain(call: ReturnType<typeof stackClient>) {
  const pipeline: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (const name of round % 2 === 0 ? ['pipeline', 'baseline'] : ['baseline', 'pipeline']) {
      await call('fill', { count: plan.drainOrders, tag: `drain-${name}-${round}` });
      const { seconds } = await call<{ seconds: number }>(name === 'pipeline' ? 'drain' : 'baselineDrain');
      (name === 'pipeline' ? pipeline : baseline).push(plan.drainOrders / seconds);
      log(`  drain round ${round + 1}: ${name.padEnd(9)} ${(plan.drainOrders / seconds).toFixed(0)} orders/s`);
    }
  }
  return { pipeline: median(pipeline), baseline: median(baseline), rounds: { pipeline: pipeline.map(Math.round), baseline: baseline.map(Math.round) } };
}

async function measureSteady(webUrl: string, call: ReturnType<typeof stackClient>) {
  const tag = `steady-${Date.now()}`;
  await call('startProcessing');
  const load = await autocannon({
    url: `${webUrl}/orders`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `customer_id=${tag}&product_id=Banana&quantity=1`,
    connections: 20,
    overallRate: plan.steadyRate,
    duration: plan.steadySeconds,
  });
  await call('untilEmpty');
  await call('stopProcessing');
  const { values } = await call<{ values: number[] }>('latencies', { tag });
  return { sent: load.requests.total, stored: values.length, p50: percentile(values, 50), p99: percentile(values, 99) };
}

async function measureColdStart() {
  const unbundledDir = join(root, 'dist', 'bench', 'unbundled');
  await mkdir(unbundledDir, { recursive: true });
  const lambdaEnv = { QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/orders', TABLE_NAME: 'orders', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', PATH: process.env.PATH ?? '' };
  const results: Record<string, { bytes: number; bundledMs: number; unbundledMs: number; ratio: number }> = {};
  for (const name of LAMBDAS) {
    // The same handler with its dependencies left in node_modules: what Lambda would load without a bundler.
    const unbundled = join(unbundledDir, `${name}.mjs`);
    await build({ entryPoints: [join(root, 'backend-lambdas', name, 'handler.ts')], outfile: unbundled, bundle: true, packages: 'external', platform: 'node', target: 'node22', format: 'esm', logLevel: 'warning' });
    const bundled = join(root, 'dist', 'lambdas', name, 'index.mjs');
    const timeImport = async (file: string) => {
      const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: lambdaEnv, cwd: root });
      return Number(stdout);
    };
    const times = { bundled: [] as number[], unbundled: [] as number[] };
    for (let i = 0; i < plan.importRuns; i++) {
      // Alternating, so a busy moment of the machine falls on both alike.
      times.bundled.push(await timeImport(bundled));
      times.unbundled.push(await timeImport(unbundled));
    }
    const bundledMs = median(times.bundled);
    const unbundledMs = median(times.unbundled);
    results[name] = { bytes: statSync(bundled).size, bundledMs, unbundledMs, ratio: bundledMs / unbundledMs };
    log(`  cold start ${name}: ${(statSync(bundled).size / 1024).toFixed(0)} KB, import ${bundledMs.toFixed(0)} ms vs ${unbundledMs.toFixed(0)} ms unbundled`);
  }
  return results;
}

async function main() {
  if (!existsSync(join(root, 'dist', 'web', 'order-web', 'server.js')) || !existsSync(join(root, 'dist', 'lambdas', 'submit-order', 'index.mjs'))) {
    log('Building first (npm run build)...');
    await run('npm', ['run', 'build'], { cwd: root, env });
  }
  log(`Benchmark${smoke ? ' (smoke: one short round, no targets)' : ''} on ${cpus().length} cores, Node ${process.version}`);
  const stack = await new Promise<{ child: ChildProcess; urls: { api: string; sqs: string }; apiKey: string }>((resolve, reject) => {
    const child = fork(join(root, 'bench', 'stack-process.ts'), [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (message: { urls: { api: string; sqs: string }; apiKey: string }) => resolve({ child, ...message }));
    child.once('exit', (code) => reject(new Error(`the stack exited with ${code}`)));
  });
  const call = stackClient(stack.child);
  const webPort = await freePort();
  // Started as pm2 starts it on EC2: the ecosystem file's node flags.
  const { apps } = createRequire(import.meta.url)(join(root, 'dist', 'web', 'order-web', 'ecosystem.config.cjs')) as { apps: { node_args?: string[] }[] };
  const web = spawn(process.execPath, [...(apps[0]?.node_args ?? []), 'server.js'], {
    cwd: join(root, 'dist', 'web', 'order-web'),
    env: { ...env, API_BASE_URL: stack.urls.api, API_KEY: stack.apiKey, PORT: String(webPort), HOST: '127.0.0.1', RATE_LIMIT_MAX: '1000000', ORDER_RATE_LIMIT_MAX: '1000000' },
    stdio: 'ignore',
  });
  const webUrl = `http://127.0.0.1:${webPort}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${webUrl}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const [expressPort, httpPort] = [await freePort(), await freePort()];
  const bareExpress = await startChild([join(root, 'bench', 'baselines', 'bare-express.ts')], { PORT: String(expressPort) });
  const bareHttp = await startChild([join(root, 'bench', 'baselines', 'bare-http.ts')], { PORT: String(httpPort) });

  try {
    log('Intake: web tier -> API adapter -> submit-order -> SQS');
    const intake = await measureIntake(webUrl, `http://127.0.0.1:${expressPort}`, `http://127.0.0.1:${httpPort}`, call);
    const memory = { webRssMb: peakRssMb(web.pid!), stackRssMb: peakRssMb(stack.child.pid!) + peakRssMb(web.pid!) };
    log('Drain: SQS -> event source mapping -> process-order -> DynamoDB');
    const drain = await measureDrain(call);
    log(`Steady load: ${plan.steadyRate} orders/s for ${plan.steadySeconds} s through the web tier`);
    const steady = await measureSteady(webUrl, call);
    log('Cold start: import of each Lambda bundle in a fresh process');
    const coldStart = await measureColdStart();

    const checks = [
      { name: 'intake / raw SendMessage', value: intake.intake.rps / intake.rawSend.rps, target: `>= ${targets.intakeVsRawSend}`, ok: intake.intake.rps / intake.rawSend.rps >= targets.intakeVsRawSend },
      { name: 'intake p99 (ms)', value: intake.intake.p99, target: `<= ${targets.intakeP99Ms}`, ok: intake.intake.p99 <= targets.intakeP99Ms },
      { name: 'intake errors', value: intake.intake.errors, target: `= ${targets.intakeErrors}`, ok: intake.intake.errors === targets.intakeErrors },
      { name: 'drain / minimal loop', value: drain.pipeline / drain.baseline, target: `>= ${targets.drainVsBaseline}`, ok: drain.pipeline / drain.baseline >= targets.drainVsBaseline },
      // autocannon counts the requests answered within its run; those still in flight at its end are stored too.
      { name: 'steady submit-to-stored p99 (ms)', value: steady.p99, target: `<= ${targets.steadyP99Ms}`, ok: steady.p99 <= targets.steadyP99Ms && steady.stored >= steady.sent },
      ...LAMBDAS.flatMap((name) => [
        { name: `${name} bundle (KB)`, value: coldStart[name]!.bytes / 1024, target: `<= ${targets.bundleBytes / 1024}`, ok: coldStart[name]!.bytes <= targets.bundleBytes },
        { name: `${name} import (ms)`, value: coldStart[name]!.bundledMs, target: `<= ${targets.importMs}`, ok: coldStart[name]!.bundledMs <= targets.importMs },
        { name: `${name} bundled / unbundled`, value: coldStart[name]!.ratio, target: `<= ${targets.bundledVsUnbundled}`, ok: coldStart[name]!.ratio <= targets.bundledVsUnbundled },
      ]),
      { name: 'web tier peak RSS (MB)', value: memory.webRssMb, target: `<= ${targets.webRssMb}`, ok: memory.webRssMb <= targets.webRssMb },
      { name: 'local stack peak RSS (MB)', value: memory.stackRssMb, target: `<= ${targets.stackRssMb}`, ok: memory.stackRssMb <= targets.stackRssMb },
    ];
    const results = { when: new Date().toISOString(), smoke, node: process.version, cores: cpus().length, plan, intake, drain, steady, coldStart, memory, checks };
    if (!smoke) {
      await mkdir(join(root, 'bench', 'results'), { recursive: true });
      await writeFile(join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    }
    const f = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
    // The noise of a figure: the lowest and highest of its rounds.
    const spread = (rounds: number[]) => (rounds.length > 1 ? ` (rounds ${Math.min(...rounds)}–${Math.max(...rounds)})` : '');
    console.log(
      [
        '',
        '| stage | measured | baseline(s), same run | ratio |',
        '|---|---|---|---|',
        `| intake, web tier -> SQS | ${f(intake.intake.rps)} req/s${spread(intake.intake.rounds)}, p50 ${f(intake.intake.p50)} ms, p99 ${f(intake.intake.p99)} ms${spread(intake.intake.p99Rounds)}, ${intake.intake.errors} errors | raw SendMessage ${f(intake.rawSend.rps)}/s${spread(intake.rawSend.rounds)}; bare Express ${f(intake.bareExpress.rps)} req/s; bare node:http ${f(intake.bareHttp.rps)} req/s | ${f(intake.intake.rps / intake.rawSend.rps, 2)} / ${f(intake.intake.rps / intake.bareExpress.rps, 2)} / ${f(intake.intake.rps / intake.bareHttp.rps, 2)} |`,
        `| drain, ${plan.drainOrders} orders | ${f(drain.pipeline)} orders/s${spread(drain.rounds.pipeline)} | minimal receive-put-delete loop ${f(drain.baseline)} orders/s${spread(drain.rounds.baseline)} | ${f(drain.pipeline / drain.baseline, 2)} |`,
        `| steady ${plan.steadyRate}/s for ${plan.steadySeconds} s | submit-to-stored p50 ${f(steady.p50)} ms, p99 ${f(steady.p99)} ms (${steady.stored}/${steady.sent} stored) | | |`,
        ...LAMBDAS.map((name) => `| cold start ${name} | ${f(coldStart[name]!.bytes / 1024)} KB, import ${f(coldStart[name]!.bundledMs, 1)} ms | unbundled import ${f(coldStart[name]!.unbundledMs, 1)} ms | ${f(coldStart[name]!.ratio, 2)} |`),
        `| memory, peak RSS | web tier ${f(memory.webRssMb)} MB; whole local stack ${f(memory.stackRssMb)} MB | | |`,
        '',
        '| target | value | wanted | |',
        '|---|---|---|---|',
        ...checks.map((check) => `| ${check.name} | ${f(check.value, 2)} | ${check.target} | ${smoke ? 'smoke' : check.ok ? 'met' : 'MISSED'} |`),
        '',
      ].join('\n'),
    );
    if (!smoke && checks.some((check) => !check.ok)) process.exitCode = 1;
  } finally {
    web.kill();
    bareExpress.kill();
    bareHttp.kill();
    stack.child.disconnect();
  }
}

await main();
