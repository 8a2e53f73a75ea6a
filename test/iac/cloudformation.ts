// Helpers for reading the CloudFormation templates in tests: parse (intrinsics in their standard
// JSON form, {"Fn::GetAtt": [...]}), find resources, collect policy statements, resolve parameter
// defaults, and run Python cfn-lint. Shared with the parity test.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { yamlParse } from 'yaml-cfn';

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

export interface CfnResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Metadata?: Record<string, unknown>;
  UpdatePolicy?: Record<string, unknown>;
  CreationPolicy?: Record<string, unknown>;
  Properties?: Record<string, unknown>;
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

/** Where a template lives, for cfn-lint and for resolving its relative Code paths. */
export function templatePath(name: TemplateName): string {
  return join(CLOUDFORMATION_DIR, `${name}.yaml`);
}

/** The template's text, as written (comments included). */
export function readTemplateText(name: TemplateName): string {
  return readFileSync(templatePath(name), 'utf8');
}

/** Parses cloudformation/<name>.yaml into the standard JSON form of a template. */
export function loadTemplate(name: TemplateName): CfnTemplate {
  return yamlParse(readTemplateText(name)) as CfnTemplate;
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

/** `!Sub 'text'` (or a plain string) with every ${Parameter} replaced by the parameter's default. */
export function subWithDefaults(template: CfnTemplate, value: unknown): string {
  const text = typeof value === 'string' ? value : (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof text !== 'string') throw new Error(`Not a string or a one-argument Fn::Sub: ${JSON.stringify(value)}`);
  return text.replace(/\$\{([A-Za-z0-9]+)\}/g, (match, name: string) => {
    const parameter = template.Parameters[name];
    return parameter?.Default === undefined ? match : String(parameter.Default);
  });
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

/** Runs cfn-lint on the templates: exit code 0 means no error and no warning. */
export function runCfnLint(names: TemplateName[] = ['backend', 'frontend']): CfnLintResult {
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...names.map(templatePath)], { encoding: 'utf8', cwd: CLOUDFORMATION_DIR });
  if (lint.error) throw lint.error;
  return { exitCode: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() };
}
