// npm run bench: intake, drain, cold start and memory, each against a baseline measured in the same
// run, in alternating rounds, reported as medians. Writes bench/results/latest.json and the latest-run
// section of docs/performance.md.
// npm run bench -- --smoke: one short round of everything, no targets, nothing written (run by npm test).
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, get as httpGet, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { functions, type FunctionName, type ResourceRef } from '../platform/functions.js';
import { settings } from '../platform/settings.js';
import { prepareCustomers as prepareSignedIn, type PreparedCustomer } from '../test/helpers/prepared-customers.js';
import { eventsEnvOf, startScriptNodeFlags } from '../test/helpers/stack-process.js';
import { drainChecks, drainRows, durabilityChecks, durabilityRows, intakeChecks, intakeRows, evaluate, LAMBDAS, liveChecks, liveRows, myOrdersChecks, myOrdersRows, queueTypeRows, median, percentile, renderTables, replaceSection, summarise, unmeasured, type BenchResults, type Check, type DurabilityResults, type Load, queueTypeChecks, type QueueTypeResults } from './report.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const smoke = process.argv.includes('--smoke');
// npm run bench -- --only intake|drain|fifo|durability|live|my-orders: those rows alone, printed with their checks, nothing written.
const only = /--only (intake|drain|fifo|durability|live|my-orders)\b/.exec(process.argv.join(' '))?.[1];
const plan = smoke
  ? { warmup: 1, duration: 2, rounds: 1, drainWarmupOrders: 100, drainOrders: 200, drainRounds: 1, steadyRate: 50, steadySeconds: 1, importRuns: 2, kitchenOrders: 100, kitchenRounds: 1, liveSubscriptions: 20, durabilityRounds: 1, durabilityDuration: 2, durabilityDrainOrders: 200, fifoRounds: 1, fifoDuration: 2, fifoDrainOrders: 200, fifoCustomers: 50 }
  : { warmup: 3, duration: 10, rounds: 3, drainWarmupOrders: 2_000, drainOrders: 10_000, drainRounds: 5, steadyRate: 200, steadySeconds: 10, importRuns: 30, kitchenOrders: 3_000, kitchenRounds: 3, liveSubscriptions: 500, durabilityRounds: 5, durabilityDuration: 6, durabilityDrainOrders: 4_000, fifoRounds: 3, fifoDuration: 6, fifoDrainOrders: 4_000, fifoCustomers: 50 };
const CONNECTIONS = 50;
const MY_ORDERS_CUSTOMERS = 50;
const MY_ORDERS_PAGES_PER_SECOND = 2;
const MY_ORDERS_PER_CUSTOMER = 5;
// The bare Express baseline's own form (bench/baselines): the floor of a form post through Express.
const FORM = 'customer_id=bench&product_id=Banana&quantity=1';
const API_ORDER = JSON.stringify({ customer_id: 'bench', product_id: 'Banana', quantity: 1 });
/** Checkouts a second the harness expects, to size each bounded load: rounds end by count, not by clock. */
const CHECKOUTS_PER_SECOND = 300;
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
// BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof': extra node flags for the stack and web tier processes, to profile them.
const extraNodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

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
type StackCall = ReturnType<typeof stackClient>;

/** The built web tier, started as pm2 starts it on EC2: the ecosystem file's node flags and environment. */
async function startWebTier(apiUrl: string, apiKey: string, pool: BenchPool, extraEnv: Record<string, string> = {}): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  const { apps } = createRequire(import.meta.url)(join(root, 'dist', 'web', 'order-web', 'ecosystem.config.cjs')) as { apps: { node_args?: string[]; env?: Record<string, string> }[] };
  const child = spawn(process.execPath, [...(apps[0]?.node_args ?? []), ...extraNodeFlags, 'server.js'], {
    cwd: join(root, 'dist', 'web', 'order-web'),
    env: { ...env, ...apps[0]?.env, API_BASE_URL: apiUrl, API_KEY: apiKey, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_MAX: '1000000', RATE_LIMIT_BURST_MAX: '1000000', ORDER_RATE_LIMIT_MAX: '1000000',
      COGNITO_ENDPOINT: pool.endpoint, COGNITO_USER_POOL_ID: pool.userPoolId, COGNITO_CLIENT_ID: pool.clientId, COGNITO_ISSUER: pool.issuer, ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { process: child, url };
}

interface BenchPool {
  endpoint: string;
  userPoolId: string;
  clientId: string;
  issuer: string;
}

/**
 * `count` customers `${tag}-<n>`, each with a cart of three lines (written to the carts table by the
 * stack's process), and what their browser would hold after opening the cart page: session (an ID
 * token signed with cognito-local's own key, so no sign-in per customer) and CSRF cookies, the form.
 */
async function prepareCustomers(webUrl: string, call: StackCall, pool: BenchPool, tag: string, count: number): Promise<PreparedCustomer[]> {
  await call('fillCarts', { count, tag });
  return prepareSignedIn(webUrl, pool, Array.from({ length: count }, (_, i) => `${tag}-${i}`), { concurrency: CONNECTIONS });
}

/** One checkout a customer, each customer once: the load ends when every prepared cart is checked out. */
async function checkoutLoad(webUrl: string, customers: readonly PreparedCustomer[], options: Partial<autocannon.Options> = {}): Promise<Load> {
  let next = 0;
  return cannon(
    {
      url: `${webUrl}/checkout`,
      method: 'POST',
      amount: customers.length,
      requests: [
        {
          setupRequest: (request) => {
            const customer = customers[next++ % customers.length]!;
            return { ...request, headers: { ...request.headers, 'content-type': 'application/x-www-form-urlencoded', cookie: customer.cookie }, body: customer.checkoutBody };
          },
        },
      ],
      ...options,
    },
    303,
  );
}

/** A bounded checkout round of about `seconds`: its customers prepared first, outside the measurement. */
async function checkoutRound(webUrl: string, call: StackCall, pool: BenchPool, tag: string, seconds: number, options: Partial<autocannon.Options> = {}): Promise<{ load: Load; customers: PreparedCustomer[] }> {
  const customers = await prepareCustomers(webUrl, call, pool, tag, Math.max(50, Math.round(seconds * CHECKOUTS_PER_SECOND)));
  return { load: await checkoutLoad(webUrl, customers, options), customers };
}

/**
 * `requests` GETs of `url` at `rate` a second, each sent at its own moment (i / rate from the start)
 * whether or not earlier ones have been answered, so a slow answer delays no later request and is
 * counted in full (autocannon's rates fire every connection in the same millisecond instead).
 */
async function pacedLoad(url: string, { rate, requests, headersOf }: { rate: number; requests: number; headersOf: (i: number) => Record<string, string> }): Promise<Load> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < requests; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.push(
      (async () => {
        const at = performance.now();
        try {
          const response = await fetch(url, { headers: headersOf(i), signal: AbortSignal.timeout(10_000) });
          await response.arrayBuffer();
          if (response.status !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - at);
      })(),
    );
  }
  await Promise.all(sent);
  return { rps: requests / ((performance.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/**
 * GET /my-orders for customers who have checked out: 50 customers at once, each opening the page
 * every half second (a person reads it; they do not reload with no pause), `requests` in all, their
 * pages spread over each half second as people's are. The same 50 as connections with no pause at
 * all are measured too: what the stack saturates at.
 */
async function measureMyOrders(webUrl: string, call: StackCall, customers: readonly PreparedCustomer[]): Promise<BenchResults['myOrders']> {
  const requests = smoke ? 200 : 3000;
  const shown = customers.slice(0, MY_ORDERS_CUSTOMERS);
  // The page lists what each has ordered: a few orders apiece, as process-order stores them.
  await call('storeCustomerOrders', { customers: shown.map((customer) => customer.id).join(','), perCustomer: MY_ORDERS_PER_CUSTOMER });
  const headersOf = (i: number) => ({ accept: 'text/html', cookie: shown[i % shown.length]!.cookie });
  const paced = await pacedLoad(`${webUrl}/my-orders`, { rate: MY_ORDERS_CUSTOMERS * MY_ORDERS_PAGES_PER_SECOND, requests, headersOf });
  let next = 0;
  const saturated = await cannon(
    { url: `${webUrl}/my-orders`, amount: requests, connections: MY_ORDERS_CUSTOMERS, requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...headersOf(next++) } }) }] },
    200,
  );
  log(`  my orders: ${MY_ORDERS_CUSTOMERS} customers at ${MY_ORDERS_PAGES_PER_SECOND} pages/s each: ${paced.rps.toFixed(0)} req/s, p50 ${paced.p50.toFixed(0)} ms, p99 ${paced.p99.toFixed(0)} ms, errors ${paced.errors}; with no pause: ${saturated.rps.toFixed(0)} req/s, p99 ${saturated.p99} ms`);
  // The menu as visitors open it, at the same pace and with no pause: its products come from the
  // products table through GET /menu (read again every MENU_CACHE_SECONDS, at once for the first).
  const menuPaced = await pacedLoad(`${webUrl}/`, { rate: MY_ORDERS_CUSTOMERS * MY_ORDERS_PAGES_PER_SECOND, requests, headersOf: () => ({ accept: 'text/html' }) });
  const menuSaturated = await cannon({ url: `${webUrl}/`, headers: { accept: 'text/html' }, amount: requests, connections: MY_ORDERS_CUSTOMERS }, 200);
  log(`  menu page: ${MY_ORDERS_CUSTOMERS} visitors at ${MY_ORDERS_PAGES_PER_SECOND} pages/s each: ${menuPaced.rps.toFixed(0)} req/s, p50 ${menuPaced.p50.toFixed(0)} ms, p99 ${menuPaced.p99.toFixed(0)} ms, errors ${menuPaced.errors}; with no pause: ${menuSaturated.rps.toFixed(0)} req/s, p99 ${menuSaturated.p99} ms`);
  return { customers: Math.min(customers.length, requests), requests, pagesPerSecond: MY_ORDERS_PAGES_PER_SECOND, ...paced, saturated, menu: { ...menuPaced, saturated: menuSaturated } };
}

async function cannon(options: autocannon.Options, expectedStatus: number): Promise<Load> {
  // A round bounded by `amount` ends at autocannon's next one-second tick after its last answer, so
  // its duration runs up to a second long (3,000 checkouts in 8.1 s read as 3000 / 9 = 333/s): the
  // rate is taken from the start to the last answer instead.
  const started = performance.now();
  let lastAnswer = started;
  const requests = options.amount === undefined ? options.requests : (options.requests ?? [{}]).map((request) => ({ ...request, onResponse: () => void (lastAnswer = performance.now()) }));
  const result = await autocannon({ connections: CONNECTIONS, ...options, ...(requests ? { requests } : {}) });
  const good = (result.statusCodeStats as unknown as Record<string, { count: number }>)[String(expectedStatus)]?.count ?? 0;
  const seconds = options.amount === undefined ? result.duration : (lastAnswer - started) / 1000;
  return { rps: result.requests.total / seconds, p50: result.latency.p50, p99: result.latency.p99, errors: result.requests.total - good + result.errors + result.timeouts };
}

async function measureIntake(webUrl: string, api: { url: string; key: string }, bareExpressUrl: string, bareHttpUrl: string, call: StackCall, pool: BenchPool): Promise<BenchResults['intake'] & { customers: PreparedCustomer[] }> {
  const form = { method: 'POST' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM };
  let checkedOut: PreparedCustomer[] = [];
  let intakeRound = 0;
  const variants: Record<keyof BenchResults['intake'], (seconds: number) => Promise<Load>> = {
    // A signed-in customer's checkout of a three-line cart: the web tier -> POST /me/orders -> checkout -> SQS.
    intake: async (seconds) => {
      const { load, customers } = await checkoutRound(webUrl, call, pool, `bench-checkout-${Date.now()}-${intakeRound++}`, seconds);
      checkedOut = customers;
      return load;
    },
    // An integration's order on the API with its key (the seed's payload): submit-order -> SQS, the path of the intake target before accounts.
    api: (duration) => cannon({ url: `${api.url}/orders`, method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': api.key }, body: API_ORDER, duration }, 202),
    rawSend: async (seconds) => {
      const { count, errors } = await call<{ count: number; errors: number }>('rawSend', { seconds, connections: CONNECTIONS });
      return { rps: count / seconds, p50: NaN, p99: NaN, errors };
    },
    // The checkout target's baseline: the same work (cart read, SendMessage, conditional cart write) in a raw loop at the checkout's concurrency.
    checkoutWork: async (seconds) => {
      const { count, errors, p50, p99 } = await call<{ count: number; errors: number; p50: number; p99: number }>('checkoutWork', { seconds, connections: CONNECTIONS, tag: `bench-work-${Date.now()}-${intakeRound++}` });
      return { rps: count / seconds, p50, p99, errors };
    },
    bareExpress: (duration) => cannon({ url: `${bareExpressUrl}/orders`, ...form, duration }, 303),
    bareHttp: (duration) => cannon({ url: bareHttpUrl, duration }, 200),
  };
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const rounds = Object.fromEntries(names.map((name) => [name, [] as Load[]])) as Record<keyof typeof variants, Load[]>;
  for (let round = 0; round < plan.rounds; round++) {
    // Each round starts with a different variant, so none always runs on the warmest (or most tired) machine.
    for (const name of names.map((_, i) => names[(i + round) % names.length]!)) {
      await variants[name](plan.warmup);
      await call('purge');
      const load = await variants[name](plan.duration);
      await call('purge');
      rounds[name].push(load);
      // The raw loop has no latency of its own to show (it is a rate): '-' rather than NaN.
      log(`  intake round ${round + 1}: ${name.padEnd(12)} ${load.rps.toFixed(0)} req/s, p99 ${Number.isFinite(load.p99) ? `${load.p99} ms` : '-'}, errors ${load.errors}`);
    }
  }
  return { intake: summarise(rounds.intake), api: summarise(rounds.api), rawSend: summarise(rounds.rawSend), checkoutWork: summarise(rounds.checkoutWork), bareExpress: summarise(rounds.bareExpress), bareHttp: summarise(rounds.bareHttp), customers: checkedOut };
}

async function measureDrain(call: StackCall): Promise<BenchResults['drain']> {
  const variants = { pipeline: 'drain', baseline: 'baselineDrain' } as const;
  const drainOnce = async (name: keyof typeof variants, orders: number, tag: string) => {
    await call('fill', { count: orders, tag });
    const { seconds } = await call<{ seconds: number }>(variants[name]);
    return orders / seconds;
  };
  // Unmeasured first drains, as intake has its warm-up: the first puts of a process are its slowest (JIT, a cold table).
  for (const name of ['pipeline', 'baseline'] as const) await drainOnce(name, plan.drainWarmupOrders, `drain-warmup-${name}`);
  const rates = { pipeline: [] as number[], baseline: [] as number[] };
  for (let round = 0; round < plan.drainRounds; round++) {
    for (const name of round % 2 === 0 ? (['pipeline', 'baseline'] as const) : (['baseline', 'pipeline'] as const)) {
      const rate = await drainOnce(name, plan.drainOrders, `drain-${name}-${round}`);
      rates[name].push(rate);
      log(`  drain round ${round + 1}: ${name.padEnd(9)} ${rate.toFixed(0)} orders/s`);
    }
  }
  return { orders: plan.drainOrders, ...rates };
}

/** Orders posted through the web tier at the steady rate, then their submit-to-stored times. */
async function steadyLoad(webUrl: string, call: StackCall, pool: BenchPool, tag: string): Promise<{ sent: number; values: number[] }> {
  const customers = await prepareCustomers(webUrl, call, pool, tag, plan.steadyRate * plan.steadySeconds);
  const load = await checkoutLoad(webUrl, customers, { connections: 20, overallRate: plan.steadyRate });
  await call('untilEmpty');
  const { values } = await call<{ values: number[] }>('latencies', { tag: `${tag}-` });
  return { sent: customers.length - load.errors, values };
}

async function measureSteady(webUrl: string, call: StackCall, pool: BenchPool): Promise<BenchResults['steady']> {
  await call('startProcessing');
  const pipeline = await steadyLoad(webUrl, call, pool, `steady-${Date.now()}`);
  await call('stopProcessing');
  // The baseline: the same load through the same web tier, consumed by the least a consumer can do.
  await call('startMinimalConsumer');
  const baseline = await steadyLoad(webUrl, call, pool, `steady-baseline-${Date.now()}`);
  await call('stopMinimalConsumer');
  log(`  steady: p99 ${percentile(pipeline.values, 99)} ms (${pipeline.values.length} stored); with the minimal consumer p99 ${percentile(baseline.values, 99)} ms (${baseline.values.length} stored)`);
  return {
    rate: plan.steadyRate,
    seconds: plan.steadySeconds,
    sent: pipeline.sent,
    stored: pipeline.values.length,
    p50: percentile(pipeline.values, 50),
    p99: percentile(pipeline.values, 99),
    baselineP50: percentile(baseline.values, 50),
    baselineP99: percentile(baseline.values, 99),
  };
}

async function measureColdStart(): Promise<BenchResults['coldStart']> {
  const unbundledDir = join(root, 'dist', 'bench', 'unbundled');
  await mkdir(unbundledDir, { recursive: true });
  // What each kind of binding is on AWS, so each function starts with the environment it is declared with.
  const deployed: Record<ResourceRef, string> = {
    'orders-queue-url': 'https://sqs.us-east-1.amazonaws.com/000000000000/orders',
    'orders-table-name': settings.names.table,
    'order-events-topic-arn': 'arn:aws:sns:us-east-1:000000000000:order-events',
    'lifecycle-timings': JSON.stringify(settings.lifecycle.timingsSeconds),
    'max-receive-count': String(settings.queue.maxReceiveCount),
    'carts-table-name': settings.names.cartsTable,
    'products-table-name': settings.names.productsTable,
    'cart-ttl-seconds': String(settings.cart.ttlSeconds),
    'customer-mail-from': settings.customerMail.fromAddress,
    'shop-url': 'https://shop.example.com',
  };
  const lambdaEnv = (name: FunctionName) => ({
    ...Object.fromEntries(Object.entries(functions[name].environment).map(([variable, ref]) => [variable, deployed[ref]])),
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    PATH: process.env.PATH ?? '',
  });
  // The SDK clients alone, bundled as scripts/build.ts bundles a Lambda (the same options, minified,
  // with the environment credential provider in place of the default chain).
  const sdkBundle = join(unbundledDir, 'sdk-clients.mjs');
  await build({
    entryPoints: [join(root, 'bench', 'baselines', 'sdk-clients.ts')],
    outfile: sdkBundle,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    minify: true,
    legalComments: 'none',
    alias: { '@aws-sdk/credential-provider-node': join(root, 'backend-lambdas', 'lib', 'lambda-credentials.ts') },
    logLevel: 'warning',
  });
  const results = {} as BenchResults['coldStart'];
  for (const name of LAMBDAS) {
    // The same handler with its dependencies left in node_modules: what Lambda would load without a bundler.
    const unbundled = join(unbundledDir, `${name}.mjs`);
    await build({ entryPoints: [join(root, functions[name].entry)], outfile: unbundled, bundle: true, packages: 'external', platform: 'node', target: 'node22', format: 'esm', logLevel: 'warning' });
    const bundled = join(root, 'dist', 'lambdas', name, 'index.mjs');
    const timeImport = async (file: string) => {
      const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: lambdaEnv(name), cwd: root });
      return Number(stdout);
    };
    const times = { bundled: [] as number[], unbundled: [] as number[], sdk: [] as number[] };
    for (let i = 0; i < plan.importRuns; i++) {
      // Alternating, so a busy moment of the machine falls on all three alike.
      times.bundled.push(await timeImport(bundled));
      times.unbundled.push(await timeImport(unbundled));
      times.sdk.push(await timeImport(sdkBundle));
    }
    const bundledMs = median(times.bundled);
    const unbundledMs = median(times.unbundled);
    const sdkMs = median(times.sdk);
    results[name] = { bytes: statSync(bundled).size, bundledMs, unbundledMs, ratio: bundledMs / unbundledMs, sdkMs };
    log(`  cold start ${name}: ${(statSync(bundled).size / 1024).toFixed(0)} KB, import ${bundledMs.toFixed(0)} ms vs ${unbundledMs.toFixed(0)} ms unbundled, ${sdkMs.toFixed(0)} ms for the SDK clients alone`);
  }
  return results;
}

/** The kitchen's advance rate against a bare loop of the same conditional UpdateItem, in alternating rounds. */
async function measureKitchen(call: StackCall): Promise<BenchResults['kitchen']> {
  const rates = { kitchen: [] as number[], baseline: [] as number[] };
  const once = async (name: 'kitchenRound' | 'baselineAdvance', round: number) => {
    const { seconds, advanced } = await call<{ seconds: number; advanced: number }>(name, { count: plan.kitchenOrders, tag: `${name}-${round}` });
    return advanced / seconds;
  };
  await once('kitchenRound', -1);
  for (let round = 0; round < plan.kitchenRounds; round++) {
    for (const name of round % 2 === 0 ? (['kitchenRound', 'baselineAdvance'] as const) : (['baselineAdvance', 'kitchenRound'] as const)) {
      const rate = await once(name, round);
      rates[name === 'kitchenRound' ? 'kitchen' : 'baseline'].push(rate);
      log(`  kitchen round ${round + 1}: ${name.padEnd(15)} ${rate.toFixed(0)} orders/s`);
    }
  }
  return { orders: plan.kitchenOrders, ...rates };
}

/**
 * The order API as the live row's web process sees it, through a proxy that counts its reads of
 * orders: each GET /orders?ids= or /me/orders?ids= request, and how many order ids it asked for.
 */
async function countingApiProxy(apiUrl: string): Promise<{ url: string; reads: { requests: number; orders: number }; close(): void }> {
  const upstream = new URL(apiUrl);
  const reads = { requests: 0, orders: 0 };
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    if (req.method === 'GET' && /\/orders$/.test(url.pathname) && url.searchParams.has('ids')) {
      reads.requests++;
      reads.orders += url.searchParams.get('ids')!.split(',').filter(Boolean).length;
    }
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: `${upstream.pathname.replace(/\/$/, '')}${req.url}`, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, reads, close: () => server.close() };
}

/**
 * Status change to browser-visible: one web process with `liveSubscriptions` open subscriptions
 * (server-sent events, one order each) while the kitchen moves every order through its steps; each
 * step's latency is the time its event arrived less the time the kitchen wrote it. The web process
 * learns of each change from its queue on order-events; its reads of orders upstream are counted.
 */
async function measureLiveStatus(call: StackCall, apiUrl: string, apiKey: string, pool: BenchPool, eventsEnv: Record<string, string>): Promise<BenchResults['live']> {
  const proxy = await countingApiProxy(apiUrl);
  // A web process of its own, so its peak memory is this row's alone.
  const web = await startWebTier(proxy.url, apiKey, pool, { ...eventsEnv, STREAMS_MAX_PER_CLIENT: '100000', STREAMS_MAX: '100000', LOG_LEVEL: 'silent' });
  const { ids } = await call<{ ids: string[] }>('liveOrders', { count: plan.liveSubscriptions, tag: `live-${Date.now()}`, dueInMs: 3000 });
  const query = encodeURIComponent('subscription($id: OrderId!) { orderStatus(id: $id) { status version statusHistory { status at } } }');
  const latencies: number[] = [];
  let completed = 0;
  const streams = ids.map(
    (id) =>
      new Promise<void>((resolve, reject) => {
        const request = httpGet(`${web.url}/graphql/stream?query=${query}&variables=${encodeURIComponent(JSON.stringify({ id }))}`, { headers: { accept: 'text/event-stream' }, agent: false }, (response) => {
          if (response.statusCode !== 200) return reject(new Error(`stream answered ${response.statusCode}`));
          let buffered = '';
          response.setEncoding('utf8').on('data', (chunk: string) => {
            const arrived = Date.now();
            buffered += chunk;
            const events = buffered.split('\n\n');
            buffered = events.pop()!;
            for (const event of events) {
              const data = /^data: (.+)$/m.exec(event)?.[1];
              if (!event.startsWith('event: next') || !data) continue;
              const order = (JSON.parse(data) as { data: { orderStatus: { status: string; version: number; statusHistory: { status: string; at: string }[] } } }).data.orderStatus;
              // Version 1 is the order as first seen, not a change.
              if (order.version > 1) latencies.push(arrived - Date.parse(order.statusHistory.at(-1)!.at));
              if (order.status === 'COMPLETED') completed++;
            }
          });
          response.on('end', () => resolve());
        });
        request.on('error', reject);
        request.setTimeout(90_000, () => request.destroy(new Error('the stream did not end within 90 s')));
      }),
  );
  await call('startKitchen', { everyMs: 1000 });
  try {
    await Promise.all(streams);
  } finally {
    await call('stopKitchen');
    web.process.kill();
    proxy.close();
  }
  const webRssMb = peakRssMb(web.process.pid!);
  return { subscriptions: ids.length, completed, transitions: latencies.length, expected: ids.length * 3, p50: percentile(latencies, 50), p99: percentile(latencies, 99), webRssMb, readsPerOrder: proxy.reads.orders / ids.length, requestsPerOrder: proxy.reads.requests / ids.length };
}

interface StackHandle {
  child: ChildProcess;
  urls: { api: string; sqs: string; cognito: string };
  apiKey: string;
  userPool: Omit<BenchPool, 'endpoint'>;
  /** order-events, which each web process subscribes a queue of its own to. */
  topicArn: string;
  call: StackCall;
}


/** The local stack in its own process (npm start's node flags), with its queues journaled or not. */
async function startStack({ durable, queueType = 'standard' }: { durable: boolean; queueType?: 'standard' | 'fifo' }): Promise<StackHandle> {
  const started = await new Promise<Omit<StackHandle, 'call'>>((resolve, reject) => {
    const child = fork(join(root, 'bench', 'stack-process.ts'), [], {
      execArgv: [...startScriptNodeFlags(), ...extraNodeFlags, '--import', 'tsx'],
      env: { ...env, BENCH_DURABLE_QUEUES: durable ? '1' : '0', BENCH_QUEUE_TYPE: queueType },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (message: Omit<StackHandle, 'child' | 'call'>) => resolve({ child, ...message }));
    child.once('exit', (code) => reject(new Error(`the stack exited with ${code}`)));
  });
  return { ...started, call: stackClient(started.child) };
}

/** A web process's settings for its queue on the stack's order-events. */
const webEventsEnv = (stack: StackHandle) => eventsEnvOf({ sqsUrl: stack.urls.sqs, topicArn: stack.topicArn });

/** The built web tier in front of a stack. */
function startWeb(stack: StackHandle) {
  return startWebTier(stack.urls.api, stack.apiKey, poolOf(stack), webEventsEnv(stack));
}

function poolOf(stack: StackHandle): BenchPool {
  return { endpoint: stack.urls.cognito, ...stack.userPool };
}

interface Side {
  url: string;
  call: StackCall;
  pool: BenchPool;
  apiUrl: string;
  apiKey: string;
  eventsEnv: Record<string, string>;
}

/**
 * Runs `work` against a fresh stack and web tier for each of `specs`, stopped afterwards. Both sides
 * of a comparison start alike: the stack that ran the rest of the bench holds tens of thousands of
 * orders and a long journal, and against a fresh one it would measure its age, not its settings.
 */
async function withFreshStacks<K extends string, T>(specs: Record<K, Parameters<typeof startStack>[0]>, work: (sides: Record<K, Side>) => Promise<T>): Promise<T> {
  const started: { stack: StackHandle; web: { process: ChildProcess } }[] = [];
  try {
    const sides = {} as Record<K, Side>;
    for (const name of Object.keys(specs) as K[]) {
      const stack = await startStack(specs[name]);
      const web = await startWeb(stack);
      started.push({ stack, web });
      sides[name] = { url: web.url, call: stack.call, pool: poolOf(stack), apiUrl: stack.urls.api, apiKey: stack.apiKey, eventsEnv: webEventsEnv(stack) };
    }
    return await work(sides);
  } finally {
    for (const { stack, web } of started) {
      web.process.kill();
      stack.child.disconnect();
    }
  }
}

/**
 * What the queue journal costs: intake through a web tier and drain, on the durable stack and on a
 * second stack without the journal, in alternating rounds of the same run. The second stack and
 * its web tier run only for this.
 */
async function measureDurabilityCost(): Promise<DurabilityResults> {
  return withFreshStacks({ durable: { durable: true }, volatile: { durable: false } }, (sides) => durabilityRounds(sides));
}

/**
 * Intake and drain on two stacks in alternating rounds, each side warmed first (the first drain of a
 * process is its slowest: JIT, a cold table). `customers` spreads the drained orders over that many
 * customers (a FIFO group each); without it each order is its own customer's. `label` names the
 * rounds in the log and prefixes every customer id, so it is a customer id's letters only.
 */
async function compareStacks<K extends string>(
  label: string,
  sides: Record<K, Side>,
  [first, second]: [K, K],
  { rounds, duration, drainOrders, customers }: { rounds: number; duration: number; drainOrders: number; customers?: number },
): Promise<{ intake: Record<K, Load[]>; drain: Record<K, number[]> }> {
  const intake = { [first]: [], [second]: [] } as unknown as Record<K, Load[]>;
  const drain = { [first]: [], [second]: [] } as unknown as Record<K, number[]>;
  const spread: Record<string, number> = customers === undefined ? {} : { customers };
  for (const name of [first, second]) {
    await sides[name].call('fill', { count: plan.drainWarmupOrders, tag: `${label}-warmup-${name}`, ...spread });
    await sides[name].call('drain');
  }
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? [first, second] : [second, first]) {
      const side = sides[name];
      // Signed-in checkouts, each its own customer (on FIFO, a group per checkout, as in the shop).
      await checkoutRound(side.url, side.call, side.pool, `${label}-warm-${name}-${round}`, plan.warmup);
      await side.call('purge');
      const { load } = await checkoutRound(side.url, side.call, side.pool, `${label}-${name}-${round}-${Date.now()}`, duration);
      await side.call('purge');
      intake[name].push(load);
      await side.call('fill', { count: drainOrders, tag: `${label}-${name}-${round}`, ...spread });
      const { seconds } = await side.call<{ seconds: number }>('drain');
      drain[name].push(drainOrders / seconds);
      log(`  ${label} round ${round + 1}: ${name.padEnd(8)} intake ${load.rps.toFixed(0)} req/s, p99 ${load.p99} ms, errors ${load.errors}; drain ${(drainOrders / seconds).toFixed(0)} orders/s`);
    }
  }
  return { intake, drain };
}

async function durabilityRounds(sides: Record<'durable' | 'volatile', Side>): Promise<DurabilityResults> {
  const { intake, drain } = await compareStacks('durability', sides, ['durable', 'volatile'], { rounds: plan.durabilityRounds, duration: plan.durabilityDuration, drainOrders: plan.durabilityDrainOrders });
  return { intake: { durable: summarise(intake.durable), volatile: summarise(intake.volatile) }, drain: { orders: plan.durabilityDrainOrders, ...drain } };
}

/**
 * What the FIFO option costs: intake through a web tier and drain, on the standard stack and on a
 * second stack with QUEUE_TYPE=fifo, in alternating rounds of the same run. Orders come from
 * `fifoCustomers` customers in turn (a FIFO group each), enough for every poller to have groups of
 * its own; intake is signed-in checkouts, a customer (a group) each, on both sides.
 */
async function measureQueueTypeCost(): Promise<QueueTypeResults> {
  return withFreshStacks({ standard: { durable: true }, fifo: { durable: true, queueType: 'fifo' } }, (sides) => queueTypeRounds(sides));
}

async function queueTypeRounds(sides: Record<'standard' | 'fifo', Side>): Promise<QueueTypeResults> {
  const customers = plan.fifoCustomers;
  const { intake, drain } = await compareStacks('fifo', sides, ['standard', 'fifo'], { rounds: plan.fifoRounds, duration: plan.fifoDuration, drainOrders: plan.fifoDrainOrders, customers });
  return { intake: { standard: summarise(intake.standard), fifo: summarise(intake.fifo) }, drain: { orders: plan.fifoDrainOrders, customers, ...drain } };
}

type OnlyRow = 'intake' | 'drain' | 'fifo' | 'durability' | 'live' | 'my-orders';

/** The bare Express and bare node:http baselines, each in a child of its own. */
async function startBaselines() {
  const [expressPort, httpPort] = [await freePort(), await freePort()];
  const children = [
    await startChild([join(root, 'bench', 'baselines', 'bare-express.ts')], { PORT: String(expressPort) }),
    await startChild([join(root, 'bench', 'baselines', 'bare-http.ts')], { PORT: String(httpPort) }),
  ];
  return { expressUrl: `http://127.0.0.1:${expressPort}`, httpUrl: `http://127.0.0.1:${httpPort}`, stop: () => children.forEach((child) => child.kill()) };
}

/** A capability's rows and checks, each measured against stacks of its own. */
async function measureOnly(row: OnlyRow): Promise<[string[], Check[]]> {
  if (row === 'fifo') {
    const queueTypes = await measureQueueTypeCost();
    return [queueTypeRows(queueTypes), queueTypeChecks(queueTypes)];
  }
  if (row === 'durability') {
    const durability = await measureDurabilityCost();
    return [durabilityRows(durability), durabilityChecks(durability)];
  }
  return withFreshStacks({ main: { durable: true } }, async ({ main }) => {
    if (row === 'intake') {
      const baselines = await startBaselines();
      try {
        const { customers: _customers, ...intake } = await measureIntake(main.url, { url: main.apiUrl, key: main.apiKey }, baselines.expressUrl, baselines.httpUrl, main.call, main.pool);
        return [intakeRows(intake), intakeChecks(intake)];
      } finally {
        baselines.stop();
      }
    }
    if (row === 'drain') {
      const drain = await measureDrain(main.call);
      return [drainRows(drain), drainChecks(drain)];
    }
    if (row === 'live') {
      const live = await measureLiveStatus(main.call, main.apiUrl, main.apiKey, main.pool, main.eventsEnv);
      return [liveRows(live), liveChecks(live)];
    }
    const { customers } = await checkoutRound(main.url, main.call, main.pool, `bench-my-orders-${Date.now()}`, plan.duration);
    const myOrders = await measureMyOrders(main.url, main.call, customers);
    return [myOrdersRows(myOrders), myOrdersChecks(myOrders)];
  });
}

/** npm run bench -- --only <row>: one capability's rows and their checks, printed, nothing written. */
async function mainOnly(row: OnlyRow) {
  const [rows, checks] = await measureOnly(row);
  console.log(`\n${rows.join('\n')}\n\n${checks.map((check) => `${check.name}: ${check.value.toFixed(2)} (rounds ${(check.rounds ?? []).map((value) => value.toFixed(2)).join(', ')}) ${check.target} ${check.ok ? 'met' : 'MISSED'}`).join('\n')}`);
  if (unmeasured(checks).length > 0) console.error(`Not measured (NaN): ${unmeasured(checks).join(', ')}`);
  if (checks.some((check) => !check.ok)) process.exitCode = 1;
}

async function main() {
  if (!existsSync(join(root, 'dist', 'web', 'order-web', 'server.js')) || !existsSync(join(root, 'dist', 'lambdas', 'submit-order', 'index.mjs'))) {
    log('Building first (npm run build)...');
    await run('npm', ['run', 'build'], { cwd: root, env });
  }
  log(`Benchmark${smoke ? ' (smoke: one short round, no targets)' : ''} on ${cpus().length} cores, Node ${process.version}`);
  const stack = await startStack({ durable: true });
  const call = stack.call;
  const web = await startWeb(stack);
  const webUrl = web.url;
  const baselines = await startBaselines();

  try {
    log('Intake: web tier -> API adapter -> submit-order -> SQS');
    const { customers, ...intake } = await measureIntake(webUrl, { url: stack.urls.api, key: stack.apiKey }, baselines.expressUrl, baselines.httpUrl, call, poolOf(stack));
    const memory = { webRssMb: peakRssMb(web.process.pid!), stackRssMb: peakRssMb(stack.child.pid!) + peakRssMb(web.process.pid!) };
    log('Drain: SQS -> event source mapping -> process-order -> DynamoDB');
    const drain = await measureDrain(call);
    log(`Steady load: ${plan.steadyRate} orders/s for ${plan.steadySeconds} s through the web tier`);
    const steady = await measureSteady(webUrl, call, poolOf(stack));
    log('My orders: GET /my-orders for the customers of the last checkout round, 50 at a time');
    const myOrders = await measureMyOrders(webUrl, call, customers);
    log('Cold start: import of each Lambda bundle in a fresh process');
    const coldStart = await measureColdStart();
    log(`Kitchen: ${plan.kitchenOrders} due orders a round, against a bare conditional UpdateItem loop`);
    const kitchen = await measureKitchen(call);
    log(`Live status: ${plan.liveSubscriptions} open subscriptions on one web process while the kitchen moves their orders`);
    const live = await measureLiveStatus(call, stack.urls.api, stack.apiKey, poolOf(stack), webEventsEnv(stack));
    log('Durable queues: the same intake and drain against a stack without the queue journal');
    const durability = await measureDurabilityCost();
    log(`FIFO queue: the same intake and drain against a stack with QUEUE_TYPE=fifo, ${plan.fifoCustomers} customers`);
    const queueTypes = await measureQueueTypeCost();

    const results: BenchResults = { when: new Date().toISOString(), smoke, node: process.version, cores: cpus().length, plan, intake, drain, steady, coldStart, memory, kitchen, live, durability, myOrders, queueTypes };
    const checks = evaluate(results);
    const tables = renderTables(results, checks);
    console.log(`\n${tables}\n`);
    // A figure that was not measured is a broken harness, not a missed target: it fails smoke runs too.
    const notMeasured = unmeasured(checks);
    if (notMeasured.length > 0) {
      console.error(`Not measured (NaN): ${notMeasured.join(', ')}`);
      process.exitCode = 1;
    }
    if (!smoke) {
      await writeFile(join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify({ ...results, checks }, null, 2)}\n`);
      const doc = join(root, 'docs', 'performance.md');
      const heading = `Run of ${results.when.slice(0, 16).replace('T', ' ')} UTC on ${results.cores} cores, Node ${results.node} (\`bench/results/latest.json\` has every round).`;
      await writeFile(doc, replaceSection(await readFile(doc, 'utf8'), `${heading}\n\n${tables}`, 'latest-run'));
      if (checks.some((check) => !check.ok)) process.exitCode = 1;
    }
  } finally {
    web.process.kill();
    baselines.stop();
    stack.child.disconnect();
  }
}

if (only) {
  if (!existsSync(join(root, 'dist', 'web', 'order-web', 'server.js'))) await run('npm', ['run', 'build'], { cwd: root, env });
  await mainOnly(only as OnlyRow);
} else {
  await main();
}
