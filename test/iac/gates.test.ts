// A test that needs a tool cannot pass by doing nothing: the moto rehearsal, run by jest as npm test
// runs it, with moto_server taken off the PATH.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { repoRoot } from './terraform-cli.js';

/** PATH without any folder that holds `tool`. */
const pathWithout = (tool: string) =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !existsSync(join(dir, tool)))
    .join(delimiter);

function jest(testFile: string, env: NodeJS.ProcessEnv, without = 'moto_server'): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--selectProjects', 'iac', '--', testFile], {
      cwd: repoRoot,
      env: { ...env, PATH: pathWithout(without), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('tests that need a tool', () => {
  it('when moto_server is not on the PATH under CI=true, then the rehearsal fails and names what is missing', async () => {
    const { code, output } = await jest('test/iac/rehearsal.test.ts', { ...process.env, CI: 'true' });
    expect(code).not.toBe(0);
    expect(output).toContain('the moto rehearsal cannot run: moto_server is not on PATH');
    expect(output).toMatch(/Tests:\s+1 failed, 1 total/);
  }, 120_000);

  it('when moto_server is not on the PATH outside CI, then jest reports the rehearsal as skipped, with the reason', async () => {
    const env = { ...process.env };
    delete env.CI;
    const { code, output } = await jest('test/iac/rehearsal.test.ts', env);
    expect(code).toBe(0);
    expect(output).toContain('SKIPPED the moto rehearsal: moto_server is not on PATH');
    // Every test of the file is skipped and none ran, whatever their number.
    expect(output).toMatch(/Tests:\s+(\d+) skipped, \1 total/);
  }, 120_000);

  // The Terraform half of the policy test runs in the rehearsal, on its plans, behind the rehearsal's gate.
  it('when terraform is not on the PATH under CI=true, then the rehearsal, which holds the Terraform half of the policy test, fails and names it', async () => {
    const { code, output } = await jest('test/iac/rehearsal.test.ts', { ...process.env, CI: 'true' }, 'terraform');
    expect(code).not.toBe(0);
    expect(output).toContain('the moto rehearsal cannot run: terraform is not on PATH');
    expect(output).toMatch(/Tests:\s+1 failed, 1 total/);
  }, 120_000);

  it('when cfn-guard is missing under CI=true, then the cfn-guard tests fail and name it', async () => {
    const { code, output } = await jest('test/iac/cfn-guard.test.ts', { ...process.env, CI: 'true', CFN_GUARD: join(repoRoot, 'no-such-dir', 'cfn-guard') }, 'cfn-guard');
    expect(code).not.toBe(0);
    expect(output).toContain('the cfn-guard tests cannot run: cfn-guard is missing');
    expect(output).toMatch(/Tests:\s+1 failed, 1 total/);
  }, 120_000);
});
