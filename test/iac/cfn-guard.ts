// cfn-guard with the AWS Control Tower proactive controls (both shipped in npm
// @cdklabs/cdk-validator-cfnguard) and the project's own rules (cloudformation/guard/) over the
// CloudFormation templates, and the suppressions the templates declare. The rules have no suppression
// of their own: a resource lists the rules it fails on purpose in Metadata.guard.SuppressedRules, each
// with its reason in Metadata.guard.SuppressionReasons, and `guardProblems` holds the templates to that.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnTemplate } from './cloudformation.js';

const PACKAGE = new URL('../../node_modules/@cdklabs/cdk-validator-cfnguard/', import.meta.url).pathname;
/** The packaged binary, or the one CFN_GUARD names (gates.test.ts names one that is not there). */
export const CFN_GUARD = process.env.CFN_GUARD ?? join(PACKAGE, 'bin', 'ubuntu', 'x86_64', 'cfn-guard');
export const CONTROL_TOWER_RULES = join(PACKAGE, 'rules', 'control-tower', 'cfn-guard');
/** What Control Tower does not check and the templates must meet (a standalone instance's IMDSv2, its volumes, key pair and SSH). */
export const PROJECT_RULES = new URL('../../cloudformation/guard/', import.meta.url).pathname;
/** A reason shorter than this says nothing. */
export const MIN_REASON_LENGTH = 40;

/** Why cfn-guard cannot run here, or undefined when it can. */
export function cfnGuardUnavailableReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the packaged cfn-guard binary is for linux x64, not ${process.platform} ${process.arch}`;
  if (!existsSync(CFN_GUARD)) return `cfn-guard is missing: ${CFN_GUARD} (npm ci installs @cdklabs/cdk-validator-cfnguard)`;
  if (!existsSync(CONTROL_TOWER_RULES)) return `${CONTROL_TOWER_RULES} is missing`;
  return undefined;
}

/** One Control Tower rule that one resource of one template does not meet. */
export interface GuardFailure {
  template: string;
  rule: string;
  /** The logical id the failing checks point at, or "(template)" when they point at none. */
  resource: string;
}

interface GuardReport {
  name: string;
  not_compliant?: { Rule?: { name?: string; checks?: unknown } }[];
}

/** Logical ids under /Resources/<id>/... anywhere in a rule's checks. */
function resourcesIn(checks: unknown): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'path' && typeof item === 'string') {
          const id = /^\/Resources\/([^/]+)/.exec(item)?.[1];
          if (id) found.add(id);
        }
        visit(item);
      }
    }
  };
  visit(checks);
  return found;
}

/**
 * Runs cfn-guard with every Control Tower rule and the project's own over the template files, one
 * failure a rule and resource. Its report goes to a file: cfn-guard panics when its pipe closes early.
 */
export function runCfnGuard(files: string[], rules: string[] = [CONTROL_TOWER_RULES, PROJECT_RULES]): { failures: GuardFailure[]; rulesFiles: number } {
  const dir = mkdtempSync(join(tmpdir(), 'orders-cfn-guard-'));
  try {
    const out = join(dir, 'report.json');
    const fd = openSync(out, 'w');
    const result = spawnSync(CFN_GUARD, ['validate', ...rules.flatMap((path) => ['--rules', path]), ...files.flatMap((file) => ['--data', file]), '--output-format', 'json', '--structured', '--show-summary', 'none'], {
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      timeout: 120_000,
    });
    closeSync(fd);
    if (result.error) throw result.error;
    // 0: all compliant; 19: some rule failed. Anything else is cfn-guard itself failing.
    if (result.status !== 0 && result.status !== 19) throw new Error(`cfn-guard exited with ${String(result.status)}: ${result.stderr}`);
    const reports = JSON.parse(readFileSync(out, 'utf8')) as GuardReport[];
    const failures: GuardFailure[] = [];
    for (const report of reports) {
      const template = report.name.split('/').pop()!;
      for (const { Rule } of report.not_compliant ?? []) {
        const resources = resourcesIn(Rule?.checks);
        for (const resource of resources.size > 0 ? resources : ['(template)']) failures.push({ template, rule: String(Rule?.name), resource });
      }
    }
    const rulesFiles = spawnSync('find', [...rules, '-name', '*.guard'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
    return { failures, rulesFiles };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a template's resources suppress, and why: resource -> rule -> reason (undefined when none is given). */
export function suppressionsOf(template: CfnTemplate): Map<string, Map<string, string | undefined>> {
  const found = new Map<string, Map<string, string | undefined>>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const guard = resource.Metadata?.guard as { SuppressedRules?: string[]; SuppressionReasons?: Record<string, unknown> } | undefined;
    if (!guard) continue;
    const rules = new Map<string, string | undefined>();
    for (const rule of guard.SuppressedRules ?? []) {
      const reason = guard.SuppressionReasons?.[rule];
      rules.set(rule, typeof reason === 'string' ? reason.trim() : undefined);
    }
    // A reason for a rule that is not suppressed is a leftover, reported below.
    for (const rule of Object.keys(guard.SuppressionReasons ?? {})) if (!rules.has(rule)) rules.set(`${rule} (a reason, but not in SuppressedRules)`, undefined);
    found.set(id, rules);
  }
  return found;
}

/**
 * Every way a template and cfn-guard's failures on it disagree, one line each; empty when every
 * failure is suppressed with a reason and every suppression still suppresses a failure.
 */
export function guardProblems(templateName: string, template: CfnTemplate, failures: GuardFailure[]): string[] {
  const problems: string[] = [];
  const suppressions = suppressionsOf(template);
  const mine = failures.filter((failure) => failure.template === templateName);
  for (const { rule, resource } of mine) {
    const reason = suppressions.get(resource)?.get(rule);
    if (!suppressions.get(resource)?.has(rule)) problems.push(`${templateName}: ${resource} fails ${rule} and does not suppress it (fix it, or add it to Metadata.guard.SuppressedRules with a reason)`);
    else if (reason === undefined || reason.length < MIN_REASON_LENGTH) problems.push(`${templateName}: ${resource} suppresses ${rule} without a reason (Metadata.guard.SuppressionReasons.${rule}, at least ${MIN_REASON_LENGTH} characters)`);
  }
  for (const [resource, rules] of suppressions) {
    for (const [rule, reason] of rules) {
      if (rule.endsWith('(a reason, but not in SuppressedRules)')) problems.push(`${templateName}: ${resource} has ${rule}`);
      else if (!mine.some((failure) => failure.resource === resource && failure.rule === rule)) problems.push(`${templateName}: ${resource} suppresses ${rule}, which it no longer fails (remove the suppression)`);
      else if (reason === undefined && !problems.some((line) => line.includes(`${resource} suppresses ${rule} without a reason`))) problems.push(`${templateName}: ${resource} suppresses ${rule} without a reason`);
    }
  }
  return problems;
}
