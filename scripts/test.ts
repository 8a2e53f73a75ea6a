// npm test: every check of the project. The build first (the bundles are what the IaC and the
// integration tests check), then two lanes side by side: one for the tests that want the CPU, one for
// the typecheck, the benchmark's smoke run and the Terraform, moto and CloudFormation tests, which
// mostly wait on terraform and its provider (two files at a time). Each line a lane prints carries its name; at the
// end, each stage's time and the tests counted. Exit 0 only when every stage passed.
import { spawn } from 'node:child_process';

interface Stage {
  name: string;
  args: string[];
  /** Folders put first on the PATH for this stage (another Node's bin). */
  path?: string;
  /** Variables added to this stage's environment. */
  env?: Record<string, string>;
}

const npmRun = (name: string, script: string, ...extra: string[]): Stage => ({ name, args: ['run', '--silent', script, ...(extra.length ? ['--', ...extra] : [])] });

const prelude: Stage[] = [npmRun('build', 'build')];
const lanes: Record<string, Stage[]> = {
  checks: [
    npmRun('lint', 'lint'),
    npmRun('jest: unit, integration, reliability, e2e, smoke', 'test:jest', '--selectProjects', 'unit', 'integration', 'reliability', 'e2e', 'smoke'),
    // .ci/run names a second Node (the newest LTS) for a short smoke; the checks lane ends before the IaC lane does.
    ...(process.env.SMOKE_NODE_BIN
      ? [{ ...npmRun('smoke and unit on a second Node', 'test:jest', '--selectProjects', 'unit', 'smoke'), path: process.env.SMOKE_NODE_BIN, env: { EXPECT_NODE_MAJOR: process.env.SMOKE_NODE_MAJOR ?? '' } }]
      : []),
  ],
  // The typecheck and the bench smoke here too, which keeps the two lanes about as long as each other
  // (the checks lane's jest runs one file at a time; this lane's tests mostly wait on terraform and moto).
  iac: [npmRun('typecheck', 'typecheck'), npmRun('bench smoke', 'test:bench-smoke'), npmRun('jest: iac (terraform, moto, cfn-lint, cfn-guard)', 'test:jest', '--selectProjects', 'iac', '--maxWorkers=2')],
};

interface Outcome {
  lane: string;
  stage: string;
  seconds: number;
  status: 'passed' | 'failed' | 'not run';
}

const outcomes: Outcome[] = [];
const counts = { passed: 0, failed: 0, skipped: 0 };

/** Runs one stage with its output prefixed by the lane's name; resolves to whether it passed. */
function run(lane: string, stage: Stage): Promise<boolean> {
  const started = Date.now();
  return new Promise((resolve) => {
    const env = { ...process.env, ...stage.env, ...(stage.path ? { PATH: `${stage.path}:${process.env.PATH ?? ''}` } : {}) };
    const child = spawn('npm', stage.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          // jest's closing line, "Tests: 1 failed, 2 skipped, 3 passed, 6 total", added up over the lanes.
          const tests = /^Tests:\s+(.*)\s+\d+ total/.exec(line);
          if (tests) for (const [, n, kind] of tests[1]!.matchAll(/(\d+) (passed|failed|skipped)/g)) counts[kind as keyof typeof counts] += Number(n);
          (stream === child.stdout ? process.stdout : process.stderr).write(`[${lane}] ${line}\n`);
        }
      });
      stream.on('end', () => rest && process.stdout.write(`[${lane}] ${rest}\n`));
    }
    child.once('close', (code) => {
      const passed = code === 0;
      outcomes.push({ lane, stage: stage.name, seconds: (Date.now() - started) / 1000, status: passed ? 'passed' : 'failed' });
      resolve(passed);
    });
  });
}

/** A lane's stages one after another, each whatever the one before it gave: every failure is seen in one run. */
async function runLane(lane: string, stages: Stage[]): Promise<boolean> {
  let ok = true;
  for (const stage of stages) ok = (await run(lane, stage)) && ok;
  return ok;
}

const started = Date.now();
const ok = (await runLane('build', prelude)) && (await Promise.all(Object.entries(lanes).map(([lane, stages]) => runLane(lane, stages)))).every(Boolean);
if (!outcomes.some((outcome) => outcome.lane !== 'build')) for (const [lane, stages] of Object.entries(lanes)) for (const stage of stages) outcomes.push({ lane, stage: stage.name, seconds: 0, status: 'not run' });

const width = Math.max(...outcomes.map((outcome) => outcome.stage.length));
console.log('\nStage times (the lanes ran side by side):');
for (const { lane, stage, seconds, status } of outcomes) console.log(`  ${lane.padEnd(7)} ${stage.padEnd(width)}  ${seconds.toFixed(0).padStart(5)} s  ${status}`);
console.log(`  ${'all'.padEnd(7)} ${'npm test'.padEnd(width)}  ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s  ${ok ? 'passed' : 'failed'}`);
console.log(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exitCode = ok ? 0 : 1;
