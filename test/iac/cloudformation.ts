// Helpers for reading the CloudFormation templates in tests: parse (intrinsics in their standard
// JSON form, {"Fn::GetAtt": [...]}), find resources, collect policy statements, resolve parameter
// defaults, and run Python cfn-lint. Shared with the parity test. The backend read is the one deployed,
// dist/cloudformation/backend.yaml, which `npm run build` generates from cloudformation/backend.yaml.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { yamlParse } from 'yaml-cfn';
import type { Resource } from '../../cloudformation/generate.js';
import { OUTPUT as GENERATED_BACKEND } from '../../cloudformation/generate.js';

export const CLOUDFORMATION_DIR = new URL('../../cloudformation/', import.meta.url).pathname;
export type TemplateName = 'backend' | 'frontend';

export interface CfnParameter {
  Type: string;
  Default?: string | number;
  Description?: string;
  AllowedPattern?: string;
  AllowedValues?: (string | number)[];
  ConstraintDescription?: string;
  MinValue?: number;
  MaxValue?: number;
}

/** A resource as the generator writes one, and the policies only the hand-written templates use. */
export interface CfnResource extends Resource {
  UpdatePolicy?: Record<string, unknown>;
  CreationPolicy?: Record<string, unknown>;
}

export interface CfnOutput {
  Description?: string;
  Value: unknown;
  Condition?: string;
  Export?: { Name: unknown };
}

export interface CfnTemplate {
  AWSTemplateFormatVersion: string;
  Description: string;
  Metadata?: Record<string, unknown>;
  Parameters: Record<string, CfnParameter>;
  Rules?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, CfnOutput>;
}

/** The template that is deployed, for cfn-lint and for resolving its relative Code paths: the generated backend, the frontend as written. */
export function templatePath(name: TemplateName): string {
  return name === 'backend' ? GENERATED_BACKEND : sourcePath(name);
}

/** The template as written by hand, cloudformation/<name>.yaml. */
export function sourcePath(name: TemplateName): string {
  return join(CLOUDFORMATION_DIR, `${name}.yaml`);
}

/** The template's text as written by hand, comments included (the generated backend keeps none). */
export function readSourceText(name: TemplateName): string {
  return readFileSync(sourcePath(name), 'utf8');
}

/** Parses the deployed template into the standard JSON form of a template. */
export function loadTemplate(name: TemplateName): CfnTemplate {
  return parseTemplateFile(templatePath(name));
}

/** Parses a template file, a scratch one included. */
export function parseTemplateFile(path: string): CfnTemplate {
  if (!existsSync(path)) throw new Error(`${path} is missing: npm run build writes it`);
  return yamlParse(readFileSync(path, 'utf8')) as CfnTemplate;
}

/** The template's resources of one type, as [logicalId, resource] pairs. */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The one resource with this logical id, failing loudly when it is missing. */
export function resource(template: CfnTemplate, logicalId: string, type?: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`No resource ${logicalId} in the template`);
  if (type && found.Type !== type) throw new Error(`${logicalId} is a ${found.Type}, not a ${type}`);
  return found;
}

/** A resource's properties, typed loosely for property-by-property assertions. */
export function props(template: CfnTemplate, logicalId: string, type?: string): Record<string, unknown> {
  return resource(template, logicalId, type).Properties ?? {};
}

/** The value a parameter reference takes when the parameter is left at its default. */
export function resolveDefault(template: CfnTemplate, value: unknown): unknown {
  if (value && typeof value === 'object' && 'Ref' in value) {
    const parameter = template.Parameters[(value as { Ref: string }).Ref];
    if (parameter) return parameter.Default;
  }
  return value;
}

/** What `!Ref AWS::NoValue` leaves: the property, or the list item, is taken out. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * A template value as CloudFormation would deploy it with these parameter values (the rest at their
 * defaults): parameter Refs, Fn::If on the template's Conditions (Fn::Equals, Fn::Not, Fn::And,
 * Fn::Or, Condition), Fn::Sub in both forms, Fn::Join and AWS::NoValue are resolved, and a pseudo
 * parameter's Ref (`!Ref AWS::Region`) when `parameters` gives it; anything else (GetAtt, a
 * resource's Ref, ${AWS::Region}) is left as written.
 */
export function resolveWith(template: CfnTemplate, value: unknown, parameters: Readonly<Record<string, string | number>> = {}): unknown {
  const parameter = (name: string) => (name in parameters ? parameters[name] : template.Parameters[name]?.Default);
  const condition = (name: string): boolean => {
    if (!template.Conditions || !(name in template.Conditions)) throw new Error(`No condition ${name} in the template`);
    return Boolean(evaluate(template.Conditions[name]));
  };
  const substitute = (text: string, variables: Record<string, unknown>) =>
    text.replace(/\$\{([A-Za-z0-9]+)\}/g, (match, name: string) => {
      if (name in variables) return String(variables[name]);
      const found = parameter(name);
      return found === undefined ? match : String(found);
    });
  function evaluate(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(evaluate).filter((item) => item !== NO_VALUE);
    if (!node || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1) {
      const [[key, argument]] = entries as [[string, unknown]];
      if (key === 'Ref' && argument === 'AWS::NoValue') return NO_VALUE;
      if (key === 'Ref' && typeof argument === 'string' && (template.Parameters[argument] || (argument.startsWith('AWS::') && argument in parameters))) return parameter(argument);
      if (key === 'Condition' && typeof argument === 'string') return condition(argument);
      if (key === 'Fn::If') {
        const [name, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        return evaluate(condition(name) ? whenTrue : whenFalse);
      }
      if (key === 'Fn::Equals') {
        const [a, b] = (argument as unknown[]).map(evaluate);
        return String(a) === String(b);
      }
      if (key === 'Fn::Not') return !evaluate((argument as unknown[])[0]);
      if (key === 'Fn::And') return (argument as unknown[]).every((item) => Boolean(evaluate(item)));
      if (key === 'Fn::Or') return (argument as unknown[]).some((item) => Boolean(evaluate(item)));
      if (key === 'Fn::Sub' && typeof argument === 'string') return substitute(argument, {});
      if (key === 'Fn::Join' && Array.isArray(argument) && typeof argument[0] === 'string') {
        const items = evaluate(argument[1]);
        if (Array.isArray(items) && items.every((item) => typeof item === 'string')) return items.join(argument[0]);
        return { 'Fn::Join': [argument[0], items] };
      }
      if (key === 'Fn::Sub' && Array.isArray(argument) && typeof argument[0] === 'string') {
        return substitute(argument[0], Object.fromEntries(Object.entries((argument[1] ?? {}) as Record<string, unknown>).map(([name, item]) => [name, evaluate(item)])));
      }
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, evaluate(item)]).filter(([, item]) => item !== NO_VALUE));
  }
  const resolved = evaluate(value);
  return resolved === NO_VALUE ? undefined : resolved;
}

/** `!Sub 'text'`, `!Sub ['text', {variables}]` (or a plain string) with every ${Parameter} replaced by the parameter's default. */
export function subWithDefaults(template: CfnTemplate, value: unknown): string {
  const sub = typeof value === 'string' ? value : (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof sub !== 'string' && !(Array.isArray(sub) && typeof sub[0] === 'string')) throw new Error(`Not a string or an Fn::Sub: ${JSON.stringify(value)}`);
  return resolveWith(template, { 'Fn::Sub': sub }) as string;
}

/**
 * The logical id of the AWS::Lambda::Function that deploys a declared function (its FunctionName,
 * with the prefix left at its default, is the declared name), or undefined when the template has none.
 */
export function functionLogicalId(template: CfnTemplate, name: string): string | undefined {
  return resourcesOfType(template, 'AWS::Lambda::Function').find(([, fn]) => subWithDefaults(template, fn.Properties?.FunctionName) === name)?.[0];
}

/** The pipeline's functions in the template: every Lambda but the custom resources' inline ones, by name. */
export function deployedFunctions(template: CfnTemplate): Map<string, string> {
  return new Map(
    resourcesOfType(template, 'AWS::Lambda::Function')
      .filter(([, fn]) => typeof fn.Properties?.Code === 'string')
      .map(([id, fn]) => [subWithDefaults(template, fn.Properties!.FunctionName), id]),
  );
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: unknown;
}

export interface LocatedStatement {
  /** Logical id of the resource holding the policy, and which of its policies. */
  where: string;
  statement: PolicyStatement;
}

function statementsOf(document: unknown): PolicyStatement[] {
  const statement = (document as { Statement?: PolicyStatement | PolicyStatement[] } | undefined)?.Statement;
  if (!statement) return [];
  return Array.isArray(statement) ? statement : [statement];
}

/**
 * Every policy statement of the template: roles' inline and trust policies, managed policies,
 * and the resource policies of keys, buckets, queues and topics.
 */
export function policyStatements(template: CfnTemplate): LocatedStatement[] {
  const found: LocatedStatement[] = [];
  const add = (where: string, document: unknown) => {
    for (const statement of statementsOf(document)) found.push({ where, statement });
  };
  for (const [id, { Type, Properties = {} }] of Object.entries(template.Resources)) {
    if (Type === 'AWS::IAM::Role') {
      add(`${id}.AssumeRolePolicyDocument`, Properties.AssumeRolePolicyDocument);
      for (const policy of (Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? []) {
        add(`${id}.Policies.${policy.PolicyName}`, policy.PolicyDocument);
      }
    }
    if (Type === 'AWS::IAM::Policy' || Type === 'AWS::IAM::ManagedPolicy' || Type === 'AWS::IAM::RolePolicy') add(id, Properties.PolicyDocument);
    if (Type === 'AWS::KMS::Key') add(`${id}.KeyPolicy`, Properties.KeyPolicy);
    if (Type === 'AWS::S3::BucketPolicy' || Type === 'AWS::SQS::QueuePolicy' || Type === 'AWS::SNS::TopicPolicy') add(id, Properties.PolicyDocument);
  }
  return found;
}

/** A statement's actions as a list. */
export function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The Allow statements of one role's inline policies, with their actions and resources. */
export function roleGrants(template: CfnTemplate, roleId: string): { actions: string[]; resource: unknown }[] {
  return policyStatements(template)
    .filter(({ where, statement }) => where.startsWith(`${roleId}.Policies.`) && statement.Effect === 'Allow')
    .map(({ statement }) => ({ actions: actionsOf(statement), resource: statement.Resource }));
}

export interface CfnLintResult {
  exitCode: number | null;
  /** One finding a line: path:line:column:...:rule:message. Empty when clean. */
  output: string;
}

/** The version of Python cfn-lint on this machine (not the 2019 npm package of that name), or undefined when it is missing. */
export function cfnLintVersion(): string | undefined {
  const result = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return result.error || result.status !== 0 ? undefined : result.stdout.trim();
}

/**
 * Runs cfn-lint on the templates: exit code 0 means no error and no warning. With `parameters`, it
 * checks the template as deployed with those values (cfn-lint resolves the Conditions they decide).
 */
export function runCfnLint(names: TemplateName[] = ['backend', 'frontend'], parameters: Readonly<Record<string, string>> = {}, regions: readonly string[] = []): CfnLintResult {
  return runCfnLintOn(names.map(templatePath), parameters, regions);
}

/** cfn-lint on template files by path (a scratch one included), run from the first one's folder; for `regions` (cfn-lint's default, us-east-1, when none). */
export function runCfnLintOn(files: string[], parameters: Readonly<Record<string, string>> = {}, regions: readonly string[] = []): CfnLintResult {
  const values = Object.entries(parameters).map(([name, value]) => `${name}=${value}`);
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...(values.length ? ['--parameters', ...values] : []), ...(regions.length ? ['--regions', ...regions] : []), '--', ...files], {
    encoding: 'utf8',
    cwd: dirname(files[0]!),
  });
  if (lint.error) throw lint.error;
  return { exitCode: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() };
}
