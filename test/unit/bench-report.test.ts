import { readFileSync } from 'node:fs';
import { functionNames, functions } from '../../platform/functions.js';
import { API_INTAKE_CHECK, CHECKOUT_CHECK, evaluate, median, percentile, ratio, renderTables, replaceSection, summarise, unmeasured, type BenchResults } from '../../bench/report.js';

const variant = (rounds: number[], p99 = 20) => ({ ...summarise(rounds.map((rps) => ({ rps, p50: 5, p99, errors: 0 }))) });

/** A run that meets every target, with each figure a little inside it. */
function passingRun(): BenchResults {
  const lambda = { bytes: 300 * 1024, bundledMs: 30, unbundledMs: 120, ratio: 0.25, sdkMs: 25 };
  return {
    when: '2026-12-01T10:00:00.000Z',
    smoke: false,
    node: 'v20.20.2',
    cores: 2,
    plan: { rounds: 3, drainRounds: 5 },
    intake: { intake: variant([3500, 3600, 3700], 32), api: variant([3300, 3400, 3500], 20), rawSend: variant([3000, 3100, 3200]), checkoutWork: variant([4000, 4200, 4400], 15), bareExpress: variant([10_000, 10_000, 10_000], 12), bareHttp: variant([90_000, 90_000, 90_000], 1) },
    drain: { orders: 10_000, pipeline: [1600, 1650, 1700, 1620, 1640], baseline: [2000, 2000, 2000, 2000, 2000] },
    steady: { rate: 200, seconds: 10, sent: 2000, stored: 2020, p50: 15, p99: 40, baselineP50: 10, baselineP99: 25 },
    coldStart: Object.fromEntries(functionNames.map((name) => [name, lambda])) as BenchResults['coldStart'],
    memory: { webRssMb: 130, stackRssMb: 340 },
    kitchen: { orders: 3000, kitchen: [600, 620, 640], baseline: [1000, 1000, 1000] },
    live: { subscriptions: 500, completed: 500, transitions: 1500, expected: 1500, p50: 60, p99: 150, webRssMb: 150, readsPerOrder: 1, requestsPerOrder: 0.01 },
    myOrders: { customers: 3000, requests: 3000, pagesPerSecond: 2, rps: 100, p50: 30, p99: 80, errors: 0, saturated: { rps: 900, p50: 50, p99: 300, errors: 0 }, menu: { rps: 100, p50: 10, p99: 60, errors: 0, saturated: { rps: 800, p50: 20, p99: 150, errors: 0 } } },
    durability: {
      intake: { durable: variant([3300, 3400, 3500], 34), volatile: variant([3500, 3600, 3700], 32) },
      drain: { orders: 5000, durable: [1500, 1550, 1600], volatile: [1600, 1650, 1700] },
    },
    queueTypes: {
      intake: { fifo: variant([3000, 3100, 3200], 36), standard: variant([3500, 3600, 3700], 32) },
      drain: { orders: 4000, customers: 50, fifo: [900, 950, 1000], standard: [1600, 1650, 1700] },
    },
  };
}

const missed = (results: BenchResults) => evaluate(results).filter((check) => !check.ok).map((check) => check.name);

describe('the benchmark report', () => {
  it('when every figure is inside its target, then every check is met', () => {
    expect(missed(passingRun())).toEqual([]);
  });

  it.each([
    ['My orders p99 at 50 concurrent customers (ms)', (run: BenchResults) => void (run.myOrders.p99 = 101)],
    ['My orders p99 at 50 concurrent customers (ms)', (run: BenchResults) => void (run.myOrders.errors = 1)],
    ['menu page (products from the table) p99 at 50 concurrent visitors (ms)', (run: BenchResults) => void (run.myOrders.menu.p99 = 101)],
    ['menu page (products from the table) p99 at 50 concurrent visitors (ms)', (run: BenchResults) => void (run.myOrders.menu.errors = 1)],
    [CHECKOUT_CHECK, (run: BenchResults) => void (run.intake.intake = summarise([1000, 1100, 1200].map((rps) => ({ rps, p50: 5, p99: 20, errors: 0 }))))],
    ["checkout p99 / the same work's p99 in a raw loop", (run: BenchResults) => void (run.intake.intake = variant([3500, 3600, 3700], 46))],
    ['intake errors', (run: BenchResults) => void (run.intake.intake.errors = 1)],
    [API_INTAKE_CHECK, (run: BenchResults) => void (run.intake.api = summarise([1000, 1100, 1200].map((rps) => ({ rps, p50: 5, p99: 20, errors: 0 }))))],
    ['API intake p99 / bare Express p99', (run: BenchResults) => void (run.intake.api = variant([3500, 3600, 3700], 49))],
    ['API intake errors', (run: BenchResults) => void (run.intake.api.errors = 1)],
    ['drain / minimal loop', (run: BenchResults) => void (run.drain.pipeline = [1300, 1350, 1390, 1300, 1310])],
    ['steady submit-to-stored p99 / minimal loop p99', (run: BenchResults) => void (run.steady.p99 = 4 * run.steady.baselineP99 + 1)],
    ['steady submit-to-stored p99 / minimal loop p99', (run: BenchResults) => void (run.steady.stored = run.steady.sent - 1)],
    ['process-order bundle (KB)', (run: BenchResults) => void (run.coldStart['process-order'] = { ...run.coldStart['process-order'], bytes: 601 * 1024 })],
    ["get-order import / SDK clients' import", (run: BenchResults) => void (run.coldStart['get-order'] = { ...run.coldStart['get-order'], bundledMs: 36 })],
    ['submit-order bundled / unbundled', (run: BenchResults) => void (run.coldStart['submit-order'] = { ...run.coldStart['submit-order'], ratio: 0.81 })],
    ['web tier peak RSS (MB)', (run: BenchResults) => void (run.memory.webRssMb = 151)],
    ['local stack peak RSS (MB)', (run: BenchResults) => void (run.memory.stackRssMb = 501)],
    ['kitchen / conditional UpdateItem loop', (run: BenchResults) => void (run.kitchen.kitchen = [400, 450, 490])],
    ['status change to browser p99, 500 subscriptions (ms)', (run: BenchResults) => void (run.live.p99 = 2001)],
    ['status change to browser p99, 500 subscriptions (ms)', (run: BenchResults) => void (run.live.completed = 499)],
    ['web process peak RSS with those subscriptions (MB)', (run: BenchResults) => void (run.live.webRssMb = 201)],
    ['intake, durable / volatile queues', (run: BenchResults) => void (run.durability.intake.durable = variant([2900, 3000, 3100], 34))],
    ['intake p99, durable / volatile queues', (run: BenchResults) => void (run.durability.intake.durable = variant([3300, 3400, 3500], 45))],
    ['drain, durable / volatile queues', (run: BenchResults) => void (run.durability.drain.durable = [1300, 1350, 1390])],
    ['intake, FIFO / standard queue', (run: BenchResults) => void (run.queueTypes.intake.fifo = variant([2000, 2100, 2200], 36))],
    ['drain, FIFO / standard queue', (run: BenchResults) => void (run.queueTypes.drain.fifo = [500, 600, 650])],
  ])('when %s is past its target, then that check alone is missed', (name, spoil) => {
    const run = passingRun();
    spoil(run);
    expect(missed(run)).toEqual([name]);
  });

  it('when a figure was not measured (NaN), then its check is missed and the run names it as unmeasured, smoke runs included', () => {
    const run = { ...passingRun(), smoke: true };
    run.steady.baselineP99 = NaN;
    const checks = evaluate(run);
    expect(unmeasured(checks)).toEqual(['steady submit-to-stored p99 / minimal loop p99']);
    expect(checks.find((check) => check.name.startsWith('steady'))?.ok).toBe(false);
    expect(unmeasured(evaluate(passingRun()))).toEqual([]);
    // A FIFO drain that never finished a round: its ratio is NaN, so the run fails rather than passing unjudged.
    const fifo = { ...passingRun(), smoke: true };
    fifo.queueTypes.drain.fifo = [];
    expect(unmeasured(evaluate(fifo))).toEqual(['drain, FIFO / standard queue']);
  });

  it('when ratios are taken, then the figure is the ratio of the medians and each round keeps its own ratio', () => {
    expect(ratio([3, 1, 2], [2, 2, 2])).toEqual({ value: 1, rounds: [1.5, 0.5, 1] });
    expect(median([5, 1, 4, 2])).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
  });

  it('when the tables are rendered, then each check shows its value, the spread of its rounds and whether it was met', () => {
    const run = passingRun();
    run.memory.webRssMb = 160;
    const tables = renderTables(run, evaluate(run));
    expect(tables).toContain('| drain / minimal loop | 0.82 (rounds 0.80–0.85) | >= 0.7 | met |');
    expect(tables).toContain('| web tier peak RSS (MB) | 160.00 | <= 150 | MISSED |');
    expect(tables).toContain('medians of 3 and 5 alternating rounds');
  });

  it('when the latest run is written into a document, then only the text between its markers changes', () => {
    const document = 'intro\n<!-- latest-run:start -->\nold table\n<!-- latest-run:end -->\noutro\n';
    expect(replaceSection(document, 'new table', 'latest-run')).toBe('intro\n<!-- latest-run:start -->\nnew table\n<!-- latest-run:end -->\noutro\n');
    expect(() => replaceSection('no markers', 'x', 'latest-run')).toThrow(/latest-run:start/);
  });

  it("when the cold start baseline is built, then it holds every SDK client a function's handler builds, so no function's own client counts as its code", () => {
    const source = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    const clientsOf = (file: string) => new Set([...source(file).matchAll(/new (\w+Client)\(/g)].map((match) => match[1]!));
    // A handler builds its clients through backend-lambdas/lib/traced/, one module a client.
    const tracedOf = (entry: string) => [...source(entry).matchAll(/from '\.\.\/lib\/traced\/([\w-]+)\.js'/g)].map((match) => `backend-lambdas/lib/traced/${match[1]!}.ts`);
    const used = new Set(functionNames.flatMap((name) => tracedOf(functions[name].entry).flatMap((module) => [...clientsOf(module)])));
    expect(used.size).toBeGreaterThan(0);
    expect([...clientsOf('bench/baselines/sdk-clients.ts')].sort()).toEqual([...used].sort());
  });
});
