// What npm run bench judges and prints: the targets, the checks of a run against them, its table.
// Pure functions of a run's figures, so the judging can be tested without running a benchmark.
import { functionNames, type FunctionName } from '../platform/functions.js';
import { settings } from '../platform/settings.js';

// Latency targets are ratios to a baseline measured in the same run, not milliseconds: on a busy
// 2-core machine the same code measured intake p99 at 80 ms in one run and 109 ms in the next, the
// bare Express baseline moving with it (27 -> 40 ms). The thresholds are what docs/performance.md
// says they come from.
export const targets = {
  // Checkout through the web tier against the same work (cart read, SendMessage, conditional cart
  // write) in a raw loop of the stack's clients at the same concurrency: what is left is our code
  // (the web tier, the gateway's checks, the Lambda's parsing, pricing and logging). About 0.8 measured.
  checkoutVsWork: 0.75,
  checkoutP99VsWork: 3,
  // An integration's order against the raw SendMessage loop: one round trip against one.
  intakeVsRawSend: 0.6,
  // The API's intake (one round trip) against a bare Express: measured 2.7 (32/12 ms unloaded), 2.96
  // (80/27) and 2.73 (109/40) under load; 4 leaves a third for noise. Not the checkout's: at 50
  // connections a p99 follows the throughput, and three round trips against none measured 7.87.
  intakeP99VsBareExpress: 4,
  intakeErrors: 0,
  drainVsBaseline: 0.7,
  // Against the same load consumed by the least a consumer can do (receive, put, delete). Measured
  // 3.54 with the machine's load average at 5 (bare node:http at a third of its idle rate), where the
  // pipeline, doing more per order, queues first; 4 is that worst case and a little more.
  steadyP99VsMinimalLoop: 4,
  bundleBytes: 600 * 1024,
  // Against importing the SDK clients alone, bundled the same way: what any function on them pays.
  // Measured 0.95-1.16 (idle and loaded alike); 1.4 lets our own code grow its share by a third.
  importVsSdkClients: 1.4,
  bundledVsUnbundled: 0.8,
  webRssMb: 150,
  stackRssMb: 500,
  kitchenVsUpdate: 0.5,
  // Issue 25: with changes pushed (a queue per web process on order-events), not polled.
  liveP99Ms: 300,
  liveWebRssMb: 200,
  // The read when a page starts, and one more if the order was not stored yet; an event applies in place.
  liveReadsPerOrder: 2,
  // An absolute figure, as issue 12 asks: the page a signed-in customer opens most, at 50 at once.
  myOrdersP99Ms: 100,
  // The same bar for the menu, now read from the products table (through GET /menu, kept MENU_CACHE_SECONDS).
  menuPageP99Ms: 100,
};

/** The name of the intake check: since accounts, intake through the web tier is a signed-in checkout. */
export const CHECKOUT_CHECK = 'checkout through the web tier (signed in, 3 lines) / the same work in a raw loop';
export const API_INTAKE_CHECK = 'API intake (POST /orders, API key) / raw SendMessage';

export const LAMBDAS: readonly FunctionName[] = functionNames;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The nearest-rank percentile: the smallest value that `p` % of the values are at or below. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** One load's outcome: requests a second, latency in ms, and every answer that was not the expected one. */
export interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** A variant's rounds and their medians; errors are summed, since any error fails the run. */
export interface Variant extends Load {
  rounds: number[];
  p99Rounds: number[];
}

export function summarise(loads: readonly Load[]): Variant {
  return {
    rps: median(loads.map((load) => load.rps)),
    p50: median(loads.map((load) => load.p50)),
    p99: median(loads.map((load) => load.p99)),
    errors: loads.reduce((sum, load) => sum + load.errors, 0),
    rounds: loads.map((load) => Math.round(load.rps)),
    p99Rounds: loads.map((load) => load.p99),
  };
}

/** The ratio of two variants run in the same rounds: medians over medians, and each round's own ratio for its noise. */
export function ratio(measured: readonly number[], baseline: readonly number[]): { value: number; rounds: number[] } {
  return { value: median(measured) / median(baseline), rounds: measured.map((value, i) => value / baseline[i]!) };
}

export interface BenchResults {
  when: string;
  smoke: boolean;
  node: string;
  cores: number;
  plan: Record<string, number>;
  /** checkoutWork: a checkout's I/O alone in a raw loop (cart read, SendMessage, conditional cart write), the checkout target's baseline. */
  /** api: an integration's order on POST /orders with the API key, the intake target's path before accounts. */
  intake: Record<'intake' | 'api' | 'rawSend' | 'checkoutWork' | 'bareExpress' | 'bareHttp', Variant>;
  drain: { orders: number; pipeline: number[]; baseline: number[] };
  /** baselineP50/P99: the same load through the web tier, consumed by a minimal receive-put-delete loop. */
  steady: { rate: number; seconds: number; sent: number; stored: number; p50: number; p99: number; baselineP50: number; baselineP99: number };
  /** sdkMs: importing the SDK clients alone, bundled the same way, alternating with the function's bundle. */
  coldStart: Record<FunctionName, { bytes: number; bundledMs: number; unbundledMs: number; ratio: number; sdkMs: number }>;
  memory: { webRssMb: number; stackRssMb: number };
  kitchen: { orders: number; kitchen: number[]; baseline: number[] };
  /** readsPerOrder: order ids the web process asked the API for, per watched order (requestsPerOrder: the requests that held them). */
  live: { subscriptions: number; completed: number; transitions: number; expected: number; p50: number; p99: number; webRssMb: number; readsPerOrder: number; requestsPerOrder: number };
  durability: DurabilityResults;
  /** GET /my-orders for `customers` signed-in customers (each with an order), 50 at once, each `pagesPerSecond`; `saturated` with no pause. */
  myOrders: { customers: number; requests: number; pagesPerSecond: number; rps: number; p50: number; p99: number; errors: number; saturated: Load; menu: Load & { saturated: Load } };
  queueTypes: QueueTypeResults;
}

/** The same intake and drain against a stack on a standard orders queue and one on a FIFO queue (a group per customer). */
export interface QueueTypeResults {
  intake: { fifo: Variant; standard: Variant };
  drain: { orders: number; customers: number; fifo: number[]; standard: number[] };
}

/** The same intake and drain against a stack whose queues are journaled and one whose are not. */
export interface DurabilityResults {
  intake: { durable: Variant; volatile: Variant };
  drain: { orders: number; durable: number[]; volatile: number[] };
}

export interface Check {
  name: string;
  value: number;
  target: string;
  ok: boolean;
  /** The figure in each round, where it has rounds. */
  rounds?: number[];
}

function compare(name: string, value: number, op: '>=' | '<=', target: number, rounds?: number[]): Check {
  return { name, value, target: `${op} ${target}`, ok: op === '>=' ? value >= target : value <= target, ...(rounds ? { rounds } : {}) };
}
const atLeast = (name: string, value: number, target: number, rounds?: number[]) => compare(name, value, '>=', target, rounds);
const atMost = (name: string, value: number, target: number, rounds?: number[]) => compare(name, value, '<=', target, rounds);

/** Each figure of a run against its target. */
export function evaluate(results: BenchResults): Check[] {
  const { intake, drain, steady, coldStart, memory, kitchen, live, myOrders } = results;
  const kitchenVsUpdate = ratio(kitchen.kitchen, kitchen.baseline);
  const steadyVsLoop = steady.p99 / steady.baselineP99;
  return [
    ...intakeChecks(intake),
    ...drainChecks(drain),
    // Orders still in flight when autocannon stops are answered and stored too, so stored may exceed sent.
    { ...atMost('steady submit-to-stored p99 / minimal loop p99', steadyVsLoop, targets.steadyP99VsMinimalLoop), ok: steadyVsLoop <= targets.steadyP99VsMinimalLoop && steady.stored >= steady.sent },
    ...LAMBDAS.flatMap((name) => [
      atMost(`${name} bundle (KB)`, coldStart[name].bytes / 1024, targets.bundleBytes / 1024),
      atMost(`${name} import / SDK clients' import`, coldStart[name].bundledMs / coldStart[name].sdkMs, targets.importVsSdkClients),
      atMost(`${name} bundled / unbundled`, coldStart[name].ratio, targets.bundledVsUnbundled),
    ]),
    atMost('web tier peak RSS (MB)', memory.webRssMb, targets.webRssMb),
    atMost('local stack peak RSS (MB)', memory.stackRssMb, targets.stackRssMb),
    atLeast('kitchen / conditional UpdateItem loop', kitchenVsUpdate.value, targets.kitchenVsUpdate, kitchenVsUpdate.rounds),
    ...liveChecks(live),
    ...myOrdersChecks(myOrders),
    ...durabilityChecks(results.durability),
    ...queueTypeChecks(results.queueTypes),
  ];
}

export function intakeChecks(intake: BenchResults['intake']): Check[] {
  const checkoutVsWork = ratio(intake.intake.rounds, intake.checkoutWork.rounds);
  const checkoutP99VsWork = ratio(intake.intake.p99Rounds, intake.checkoutWork.p99Rounds);
  const apiVsRaw = ratio(intake.api.rounds, intake.rawSend.rounds);
  const apiP99VsExpress = ratio(intake.api.p99Rounds, intake.bareExpress.p99Rounds);
  return [
    atLeast(CHECKOUT_CHECK, checkoutVsWork.value, targets.checkoutVsWork, checkoutVsWork.rounds),
    atMost('checkout p99 / the same work\'s p99 in a raw loop', checkoutP99VsWork.value, targets.checkoutP99VsWork, checkoutP99VsWork.rounds),
    { name: 'intake errors', value: intake.intake.errors, target: `= ${targets.intakeErrors}`, ok: intake.intake.errors === targets.intakeErrors },
    // The intake target's own path before accounts (the shop's single-order form is gone): an integration's order.
    atLeast(API_INTAKE_CHECK, apiVsRaw.value, targets.intakeVsRawSend, apiVsRaw.rounds),
    atMost('API intake p99 / bare Express p99', apiP99VsExpress.value, targets.intakeP99VsBareExpress, apiP99VsExpress.rounds),
    { name: 'API intake errors', value: intake.api.errors, target: `= ${targets.intakeErrors}`, ok: intake.api.errors === targets.intakeErrors },
  ];
}

export function drainChecks(drain: BenchResults['drain']): Check[] {
  const drainVsLoop = ratio(drain.pipeline, drain.baseline);
  return [atLeast('drain / minimal loop', drainVsLoop.value, targets.drainVsBaseline, drainVsLoop.rounds)];
}

export function myOrdersChecks(myOrders: BenchResults['myOrders']): Check[] {
  return [
    { ...atMost('My orders p99 at 50 concurrent customers (ms)', myOrders.p99, targets.myOrdersP99Ms), ok: myOrders.p99 <= targets.myOrdersP99Ms && myOrders.errors === 0 },
    { ...atMost('menu page (products from the table) p99 at 50 concurrent visitors (ms)', myOrders.menu.p99, targets.menuPageP99Ms), ok: myOrders.menu.p99 <= targets.menuPageP99Ms && myOrders.menu.errors === 0 },
  ];
}

export function myOrdersRows(myOrders: BenchResults['myOrders']): string[] {
  return [
    `| My orders, 50 signed-in customers at once, each a page every ${f(1 / myOrders.pagesPerSecond, 1)} s | ${f(myOrders.rps)} req/s, p50 ${f(myOrders.p50)} ms, p99 ${f(myOrders.p99)} ms, ${myOrders.errors} errors (${myOrders.requests} requests) | the same 50 with no pause (saturation): ${f(myOrders.saturated.rps)} req/s, p99 ${f(myOrders.saturated.p99)} ms | |`,
    `| The menu page, 50 visitors at once, each a page every ${f(1 / myOrders.pagesPerSecond, 1)} s (its products from the products table, kept ${settings.menu.cacheSeconds} s) | ${f(myOrders.menu.rps)} req/s, p50 ${f(myOrders.menu.p50)} ms, p99 ${f(myOrders.menu.p99)} ms, ${myOrders.menu.errors} errors (${myOrders.requests} requests) | the same 50 with no pause (saturation): ${f(myOrders.menu.saturated.rps)} req/s, p99 ${f(myOrders.menu.saturated.p99)} ms | |`,
  ];
}

export function liveChecks(live: BenchResults['live']): Check[] {
  return [
    // Every subscription must have seen its order through to COMPLETED: a stream that missed steps fails the row.
    { ...atMost(`status change to browser p99, ${live.subscriptions} subscriptions (ms)`, live.p99, targets.liveP99Ms), ok: live.p99 <= targets.liveP99Ms && live.completed === live.subscriptions },
    atMost('web process peak RSS with those subscriptions (MB)', live.webRssMb, targets.liveWebRssMb),
    atMost('upstream reads per watched order, over its whole life', live.readsPerOrder, targets.liveReadsPerOrder),
  ];
}

export function liveRows(live: BenchResults['live']): string[] {
  return [
    `| live status, ${live.subscriptions} subscriptions on one web process | status change to browser p50 ${f(live.p50)} ms, p99 ${f(live.p99)} ms (${live.transitions}/${live.expected} changes seen, ${live.completed} streams to COMPLETED); web process ${f(live.webRssMb)} MB; upstream reads per watched order ${f(live.readsPerOrder, 2)} (in ${f(live.requestsPerOrder, 2)} requests) | | |`,
  ];
}

/**
 * What the FIFO option costs here: the same intake and drain on a stack with QUEUE_TYPE=fifo (one
 * group per customer) against the standard stack, in alternating rounds of the same run. The
 * thresholds are in docs/performance.md.
 */
export const queueTypeTargets = {
  // First measured (npm run bench -- --only fifo, load average 8 on 2 cores): intake 1.10 (rounds
  // 1.10-4.21), drain 1.91 (1.30-2.53). Not yet measured on a quiet machine: these floors only catch
  // FIFO becoming several times slower than standard (a group serialised, a poller starved).
  intakeFifoVsStandard: 0.7,
  drainFifoVsStandard: 0.4,
};

export function queueTypeChecks({ intake, drain }: QueueTypeResults): Check[] {
  const rate = ratio(intake.fifo.rounds, intake.standard.rounds);
  const drained = ratio(drain.fifo, drain.standard);
  return [
    atLeast('intake, FIFO / standard queue', rate.value, queueTypeTargets.intakeFifoVsStandard, rate.rounds),
    atLeast('drain, FIFO / standard queue', drained.value, queueTypeTargets.drainFifoVsStandard, drained.rounds),
  ];
}

/** The queue type rows of the first table: each stack's figures and their ratio. */
export function queueTypeRows({ intake, drain }: QueueTypeResults): string[] {
  const rate = ratio(intake.fifo.rounds, intake.standard.rounds);
  const drained = ratio(drain.fifo, drain.standard);
  return [
    `| FIFO queue: intake | ${f(intake.fifo.rps)} req/s${spread(intake.fifo.rounds)}, p99 ${f(intake.fifo.p99)} ms | the standard queue: ${f(intake.standard.rps)} req/s${spread(intake.standard.rounds)}, p99 ${f(intake.standard.p99)} ms | ${f(rate.value, 2)}${spread(rate.rounds, 2)} |`,
    `| FIFO queue: drain, ${drain.orders} orders of ${drain.customers} customers | ${f(median(drain.fifo))} orders/s${spread(drain.fifo)} | the standard queue: ${f(median(drain.standard))} orders/s${spread(drain.standard)} | ${f(drained.value, 2)}${spread(drained.rounds, 2)} |`,
  ];
}

/**
 * What journaling the queues costs (every message written with writeSync before the emulator
 * answers, and its delete after): the durable stack against the same stack without the journal,
 * in alternating rounds of the same run. The thresholds are in docs/performance.md.
 */
export const durabilityTargets = {
  // The journal alone costs 7% of SendMessage and 4% of receive-delete (measured on the emulator
  // alone); the end-to-end rounds of a shared machine spread by a third around that.
  intakeVsVolatile: 0.85,
  intakeP99VsVolatile: 1.3,
  drainVsVolatile: 0.85,
};

export function durabilityChecks({ intake, drain }: DurabilityResults): Check[] {
  const rate = ratio(intake.durable.rounds, intake.volatile.rounds);
  const p99 = ratio(intake.durable.p99Rounds, intake.volatile.p99Rounds);
  const drained = ratio(drain.durable, drain.volatile);
  return [
    atLeast('intake, durable / volatile queues', rate.value, durabilityTargets.intakeVsVolatile, rate.rounds),
    atMost('intake p99, durable / volatile queues', p99.value, durabilityTargets.intakeP99VsVolatile, p99.rounds),
    atLeast('drain, durable / volatile queues', drained.value, durabilityTargets.drainVsVolatile, drained.rounds),
  ];
}

/** The checks whose figure was not measured (NaN, say): a run with any fails, smoke runs included. */
export function unmeasured(checks: readonly Check[]): string[] {
  return checks.filter((check) => !Number.isFinite(check.value)).map((check) => check.name);
}

const f = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
/** A figure's noise: the lowest and highest of its rounds. */
const spread = (rounds: readonly number[], digits = 0) => (rounds.length > 1 ? ` (rounds ${f(Math.min(...rounds), digits)}–${f(Math.max(...rounds), digits)})` : '');

/** The run as two Markdown tables: the figures with their baselines, then each target. */
export function renderTables(results: BenchResults, checks: readonly Check[]): string {
  const { intake, drain, steady, coldStart, memory, plan, kitchen, live, myOrders } = results;
  const kitchenVsUpdate = ratio(kitchen.kitchen, kitchen.baseline);
  return [
    '| stage | measured | baseline(s), same run | ratio (rounds) |',
    '|---|---|---|---|',
    ...intakeRows(intake),
    ...drainRows(drain),
    `| steady ${steady.rate}/s for ${steady.seconds} s | submit-to-stored p50 ${f(steady.p50)} ms, p99 ${f(steady.p99)} ms (${steady.stored}/${steady.sent} stored) | the same load, minimal receive-put-delete consumer: p50 ${f(steady.baselineP50)} ms, p99 ${f(steady.baselineP99)} ms | ${f(steady.p99 / steady.baselineP99, 2)} |`,
    ...LAMBDAS.map((name) => `| cold start ${name} | ${f(coldStart[name].bytes / 1024)} KB, import ${f(coldStart[name].bundledMs, 1)} ms | unbundled import ${f(coldStart[name].unbundledMs, 1)} ms; SDK clients alone ${f(coldStart[name].sdkMs, 1)} ms | ${f(coldStart[name].ratio, 2)} / ${f(coldStart[name].bundledMs / coldStart[name].sdkMs, 2)} |`),
    `| memory, peak RSS | web tier ${f(memory.webRssMb)} MB; whole local stack ${f(memory.stackRssMb)} MB | | |`,
    `| kitchen, ${kitchen.orders} due orders a round | ${f(median(kitchen.kitchen))} orders/s${spread(kitchen.kitchen)} | conditional UpdateItem loop ${f(median(kitchen.baseline))} orders/s${spread(kitchen.baseline)} | ${f(kitchenVsUpdate.value, 2)}${spread(kitchenVsUpdate.rounds, 2)} |`,
    ...myOrdersRows(myOrders),
    ...liveRows(live),
    ...durabilityRows(results.durability),
    ...queueTypeRows(results.queueTypes),
    '',
    `Intake and drain: medians of ${plan.rounds} and ${plan.drainRounds} alternating rounds.`,
    '',
    '| target | value (rounds) | wanted | |',
    '|---|---|---|---|',
    ...checks.map((check) => `| ${check.name} | ${f(check.value, 2)}${check.rounds ? spread(check.rounds, 2) : ''} | ${check.target} | ${results.smoke ? 'smoke' : check.ok ? 'met' : 'MISSED'} |`),
  ].join('\n');
}

export function intakeRows(intake: BenchResults['intake']): string[] {
  const vs = (name: keyof typeof intake) => ratio(intake.intake.rounds, intake[name].rounds);
  const apiVsRaw = ratio(intake.api.rounds, intake.rawSend.rounds);
  return [
    `| checkout through the web tier (signed in, 3 lines) -> SQS | ${f(intake.intake.rps)} req/s${spread(intake.intake.rounds)}, p50 ${f(intake.intake.p50)} ms, p99 ${f(intake.intake.p99)} ms${spread(intake.intake.p99Rounds)}, ${intake.intake.errors} errors | raw SendMessage ${f(intake.rawSend.rps)}/s${spread(intake.rawSend.rounds)}; bare Express ${f(intake.bareExpress.rps)} req/s; bare node:http ${f(intake.bareHttp.rps)} req/s | ${f(vs('rawSend').value, 2)}${spread(vs('rawSend').rounds, 2)} / ${f(vs('bareExpress').value, 2)} / ${f(vs('bareHttp').value, 2)} |`,
    `| a checkout's work in a raw loop: read the cart, SendMessage, write the cart conditional on its version (50 at a time) | ${f(intake.checkoutWork.rps)}/s${spread(intake.checkoutWork.rounds)}, p50 ${f(intake.checkoutWork.p50)} ms, p99 ${f(intake.checkoutWork.p99)} ms${spread(intake.checkoutWork.p99Rounds)} | | checkout / it ${f(vs('checkoutWork').value, 2)}${spread(vs('checkoutWork').rounds, 2)} |`,
    `| an integration's order on the API (POST /orders, API key, the seed's payload) -> SQS | ${f(intake.api.rps)} req/s${spread(intake.api.rounds)}, p50 ${f(intake.api.p50)} ms, p99 ${f(intake.api.p99)} ms${spread(intake.api.p99Rounds)}, ${intake.api.errors} errors | raw SendMessage ${f(intake.rawSend.rps)}/s | ${f(apiVsRaw.value, 2)}${spread(apiVsRaw.rounds, 2)} |`,
  ];
}

export function drainRows(drain: BenchResults['drain']): string[] {
  const drainVsLoop = ratio(drain.pipeline, drain.baseline);
  return [
    `| drain, ${drain.orders} orders | ${f(median(drain.pipeline))} orders/s${spread(drain.pipeline)} | minimal receive-put-delete loop ${f(median(drain.baseline))} orders/s${spread(drain.baseline)} | ${f(drainVsLoop.value, 2)}${spread(drainVsLoop.rounds, 2)} |`
  ];
}

/** The durability rows of the first table: each stack's figures and their ratio. */
export function durabilityRows({ intake, drain }: DurabilityResults): string[] {
  const rate = ratio(intake.durable.rounds, intake.volatile.rounds);
  const drained = ratio(drain.durable, drain.volatile);
  return [
    `| durable queues: intake | ${f(intake.durable.rps)} req/s${spread(intake.durable.rounds)}, p99 ${f(intake.durable.p99)} ms | the same stack without the journal: ${f(intake.volatile.rps)} req/s${spread(intake.volatile.rounds)}, p99 ${f(intake.volatile.p99)} ms | ${f(rate.value, 2)}${spread(rate.rounds, 2)} |`,
    `| durable queues: drain, ${drain.orders} orders | ${f(median(drain.durable))} orders/s${spread(drain.durable)} | without the journal: ${f(median(drain.volatile))} orders/s${spread(drain.volatile)} | ${f(drained.value, 2)}${spread(drained.rounds, 2)} |`,
  ];
}

/** Puts `section` between the markers of `document`, replacing what was there. */
export function replaceSection(document: string, section: string, marker: string): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from === -1 || to < from) throw new Error(`the document has no ${start} ... ${end} section`);
  return `${document.slice(0, from + start.length)}\n${section}\n${document.slice(to)}`;
}
