import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gate } from '../helpers/requirements.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** Findings accepted on purpose, each with its reason (none so far). */
const EXPLAINED: Record<string, string> = {};

interface AuditReport {
  vulnerabilities?: Record<string, { severity: string }>;
  /** npm's own failure (npm 10 puts it at the top level, older ones under `error`). */
  message?: string;
  error?: { code?: string; summary?: string };
}

// Asked once, when the file loads: whether there is anything to judge decides whether the test runs.
const { stdout, stderr } = await run('npm', ['audit', '--omit=dev', '--json'], { cwd: root, timeout: 60_000 }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
let report: AuditReport;
try {
  report = JSON.parse(stdout) as AuditReport;
} catch {
  report = { message: stderr.trim().split('\n').pop() || 'npm audit printed no report' };
}
const unanswered = report.vulnerabilities ? undefined : `the registry did not answer the audit: ${report.message ?? ([report.error?.code, report.error?.summary].filter(Boolean).join(' ') || 'no report')}`;

describe('dependency audit', () => {
  gate('npm audit', unanswered).it('when the production dependencies are audited, then no high or critical finding is left unexplained', () => {
    const serious = Object.entries(report.vulnerabilities!)
      .filter(([, finding]) => finding.severity === 'high' || finding.severity === 'critical')
      .map(([name]) => name)
      .filter((name) => !EXPLAINED[name]);
    expect(serious).toEqual([]);
  });
});
