// Static checks of both Terraform roots and the child modules they call: fmt, init from the provider
// mirror, validate, and each one's own `terraform test` suite on mocked AWS (no credentials, no network).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createTerraformSession,
  findProviderMirror,
  removeTerraformSession,
  repoRoot,
  runCommand,
  succeeded,
  terraform,
  terraformEnv,
  terraformInit,
  terraformUnavailableReason,
  type CommandResult,
  CHILD_MODULES,
  type ModuleDir,
  type TerraformSession,
} from './terraform-cli.js';
import { gate } from '../helpers/requirements.js';

const MODULES: ModuleDir[] = ['terraform-backend', 'terraform-frontend', ...CHILD_MODULES];
// A suite that silently lost its runs must not pass: each holds at least this many.
const LEAST_RUNS: Record<ModuleDir, number> = { 'terraform-backend': 10, 'terraform-frontend': 10, 'terraform-modules/waf-acl': 2 };
let session: TerraformSession | undefined;
/** Each module's `terraform test`, started once both are initialised so the two suites run side by side. */
const suites = new Map<ModuleDir, Promise<CommandResult>>();
// A suite's outer limit. The backend's 34 runs (each an apply or plan of the whole mocked module) took
// 3 min 50 s alone on a shared two-core machine, and 240 s cut both suites off when run side by side.
const SUITE_TIMEOUT_MS = 600_000;

function passedRuns(output: string): number {
  return [...output.matchAll(/^\s*run "[^"]+"\.\.\. pass$/gm)].length;
}

/** Terraform's h1: hash of an unpacked provider directory (Go's dirhash Hash1): sha256 over "sha256  name" lines of its files, sorted. */
function h1(dir: string): string {
  const summary = readdirSync(dir)
    .sort()
    .map((file) => `${createHash('sha256').update(readFileSync(join(dir, file))).digest('hex')}  ${file}\n`)
    .join('');
  return `h1:${createHash('sha256').update(summary).digest('base64')}`;
}

gate('terraform fmt, validate and test', terraformUnavailableReason()).describe('the Terraform modules', () => {
  beforeAll(async () => {
    session = await createTerraformSession(MODULES);
    const ready = session;
    await Promise.all(MODULES.map(async (module) => succeeded(await terraformInit(ready, module))));
    for (const module of MODULES) suites.set(module, terraform(ready, module, ['test'], { timeoutMs: SUITE_TIMEOUT_MS }));
  }, 150_000);

  afterAll(async () => {
    await Promise.allSettled(suites.values());
    await removeTerraformSession(session);
  });

  it.each(MODULES)('when %s\'s committed lock file is read, then it pins the aws provider to the mirror\'s build by its h1: hash', (module) => {
    const lock = readFileSync(join(repoRoot, module, '.terraform.lock.hcl'), 'utf8');
    const versions = join(findProviderMirror()!, 'registry.terraform.io', 'hashicorp', 'aws');
    const [version] = readdirSync(versions);
    expect(lock).toContain(`version     = "${version}"`);
    // Init in the tests' copies runs with -lockfile=readonly, so a lock that did not match would fail there too.
    expect(lock).toContain(`"${h1(join(versions, version!, 'linux_amd64'))}"`);
  });

  it('when every module is checked with terraform fmt, then nothing needs formatting', async () => {
    // Run on the repository's own files (fmt -check writes nothing): a copy could hide a change.
    for (const module of MODULES) {
      const result = await runCommand(session!.terraform, ['fmt', '-check', '-recursive', '-diff', '-no-color', join(repoRoot, module)], {
        cwd: repoRoot,
        env: terraformEnv(session!.cliConfigFile),
        timeoutMs: 30_000,
      });
      expect({ module, code: result.code, diff: result.stdout }).toEqual({ module, code: 0, diff: '' });
    }
  }, 60_000);

  describe.each(MODULES)('%s', (module) => {
    it('when initialised from the provider mirror, then terraform validate accepts it', async () => {
      const result = succeeded(await terraform(session!, module, ['validate'], { timeoutMs: 120_000 }));
      expect(result.stdout).toContain('The configuration is valid');
    }, 150_000);

    it('when its tftest suite runs on the mock provider, then every run passes', async () => {
      const result = succeeded(await suites.get(module)!);
      expect(result.stdout).toMatch(/Success! \d+ passed, 0 failed\./);
      expect(passedRuns(result.stdout)).toBeGreaterThanOrEqual(LEAST_RUNS[module]);
    }, SUITE_TIMEOUT_MS + 60_000);
  });

  it('when the backend is given a redrive count other than the pipeline\'s, then its tftest suite fails on that assertion', async () => {
    const result = await terraform(session!, 'terraform-backend', ['test', '-var=max_receive_count=4'], { timeoutMs: SUITE_TIMEOUT_MS });
    expect(result.timedOut).toBe(false);
    expect(result.code).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('orders must move a message to the DLQ after 5 receives.');
  }, SUITE_TIMEOUT_MS + 60_000);
});
