// Tests that need a tool this machine may not have (terraform, moto, cfn-lint, Chromium, the aws
// CLI, boto3, an npm registry that audits). Decided when the file loads, so jest reports them for
// what they are: under CI=true a missing tool is a failing test that names it; elsewhere the tests
// are skipped, with the reason in their name and printed once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True where a missing tool must fail the run rather than skip (.ci/run exports CI=true). */
export const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** The first executable of that name on PATH. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find((candidate) => existsSync(candidate));
}

/** Why `command` cannot run here (not on PATH, or it fails with these arguments), or undefined. */
export function commandMissing(command: string, args: string[], install: string): string | undefined {
  if (!findExecutable(command)) return `${command} is not on PATH (${install})`;
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.status === 0) return undefined;
  const said = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').pop() ?? '';
  return `${command} ${args.join(' ')} failed (${said || `exit ${String(result.status ?? result.signal)}`}; ${install})`;
}

export interface Gate {
  /** Whether the gated tests are skipped here. */
  readonly skipped: boolean;
  readonly it: (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;
  readonly describe: (name: string, fn: () => void) => void;
}

/** Tests that run when `missing` is undefined; otherwise fail (CI) or skip, saying why. */
export function gate(what: string, missing: string | undefined): Gate {
  if (missing === undefined) return { skipped: false, it: (name, fn, timeout) => it(name, fn, timeout), describe: (name, fn) => describe(name, fn) };
  if (inCi) {
    const fail = () => {
      throw new Error(`${what} cannot run: ${missing}. Under CI=true a missing tool fails the run; .ci/run installs or finds it.`);
    };
    return { skipped: false, it: (name, _fn, timeout) => it(name, fail, timeout), describe: (name) => describe(name, () => it('has what it needs to run', fail)) };
  }
  console.warn(`SKIPPED ${what}: ${missing}`);
  const note = ` [skipped: ${missing}]`;
  return { skipped: true, it: (name, fn, timeout) => it.skip(`${name}${note}`, fn, timeout), describe: (name, fn) => describe.skip(`${name}${note}`, fn) };
}
