// The security policy both deployments must meet, over one model read from either: Terraform (parsed
// with @cdktf/hcl2json; values that depend on variables evaluated by `terraform console`) or
// CloudFormation (yaml-cfn). `findViolations` is the policy; the extractors only gather facts.
import { parse } from '@cdktf/hcl2json';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyStatements, resolveDefault, type CfnTemplate } from './cloudformation.js';
import { terraformEnv, type ModuleName, type TerraformSession } from './terraform-cli.js';

export interface Statement {
  where: string;
  effect: string;
  actions: string[];
  notAction: boolean;
  resources: string[];
  /** A KMS key policy, where Resource "*" means the key itself. */
  keyPolicy: boolean;
}

export interface Ingress {
  where: string;
  fromPort: number;
  toPort: number;
  /** null when the source is another security group. */
  cidr: string | null;
  /** The rule belongs to the load balancer's security group. */
  loadBalancer: boolean;
}

/** A resource-based permission that lets a service invoke a Lambda function. */
export interface InvokePermission {
  where: string;
  principal: string;
  /** The one resource of that service that may invoke; null when none is named. */
  sourceArn: string | null;
}

export interface SecurityModel {
  statements: Statement[];
  invokePermissions: InvokePermission[];
  ingress: Ingress[];
  encryption: { where: string; kind: 'queue' | 'topic' | 'table' | 'bucket' | 'volume'; encrypted: boolean }[];
  instanceMetadata: { where: string; tokensRequired: boolean }[];
  buckets: { where: string; publicAccessBlocked: boolean }[];
}

const SESSION_MANAGER_AGENT = new Set([
  'ssm:UpdateInstanceInformation',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
]);

const XRAY_WRITE = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

/** Resource "*" where AWS offers nothing narrower, each with its reason. */
export const WILDCARD_RESOURCES_ALLOWED: { applies: (statement: Statement) => boolean; reason: string }[] = [
  { applies: (statement) => statement.keyPolicy, reason: 'In a KMS key policy, Resource "*" means the key that holds the policy and nothing else.' },
  {
    applies: (statement) => statement.actions.length > 0 && statement.actions.every((action) => SESSION_MANAGER_AGENT.has(action)),
    reason: "Session Manager's agent (ssm:UpdateInstanceInformation, ssmmessages:*Channel) has no resource-level permissions.",
  },
  {
    applies: (statement) => statement.actions.length > 0 && statement.actions.every((action) => XRAY_WRITE.has(action)),
    reason: "X-Ray's write actions (xray:PutTraceSegments, xray:PutTelemetryRecords), which active tracing needs, have no resource-level permissions.",
  },
];

/** A "*" inside a resource ARN (not Resource "*" itself) where that is the narrowest there is, each with its reason. */
export const PARTIAL_WILDCARDS_ALLOWED: { applies: (statement: Statement, resource: string) => boolean; reason: string }[] = [
  {
    // Terraform writes the stream suffix; CloudFormation's Fn::GetAtt LogGroup.Arn already ends in it.
    applies: (statement, resource) =>
      /^\$\{aws_cloudwatch_log_group\.\w+(\[[^\]]+\])?\.arn\}:\*$/.test(resource) && statement.actions.every((action) => action === 'logs:CreateLogStream' || action === 'logs:PutLogEvents'),
    reason: "A function's own log group's streams (<log group ARN>:*): Lambda names a new stream for each execution environment.",
  },
  {
    // Terraform's and CloudFormation's spellings of <access log bucket ARN>/<prefix>/AWSLogs/<account>/*.
    applies: (statement, resource) => statement.actions.every((action) => action === 's3:PutObject') && /(aws_s3_bucket\.access_logs\.arn|AccessLogBucket\.Arn)\}\/.*\/AWSLogs\/\$\{(local\.account_id|AWS::AccountId)\}\/\*"?\}?$/.test(resource),
    reason: "Elastic Load Balancing writes access log objects under <prefix>/AWSLogs/<account>/ with names it chooses (date, load balancer, address).",
  },
];

const OPEN = new Set(['0.0.0.0/0', '::/0']);
const LOAD_BALANCER_PORTS = new Set([80, 443]);

/** Every way the model breaks the policy, one line each; empty when it holds. */
export function findViolations(model: SecurityModel): string[] {
  const violations: string[] = [];
  for (const statement of model.statements) {
    if (statement.effect !== 'Allow') continue;
    if (statement.notAction) violations.push(`${statement.where}: NotAction in an Allow statement grants everything else`);
    for (const action of statement.actions) if (action.includes('*')) violations.push(`${statement.where}: wildcard action ${action}`);
    if (statement.resources.includes('*') && !WILDCARD_RESOURCES_ALLOWED.some((allowed) => allowed.applies(statement))) {
      violations.push(`${statement.where}: Resource "*" where a narrower resource exists`);
    }
    // A "*" inside an ARN is a wildcard too: ".../index/*" grants every index of a table, not the one used.
    for (const resource of statement.resources) {
      if (resource !== '*' && resource.includes('*') && !PARTIAL_WILDCARDS_ALLOWED.some((allowed) => allowed.applies(statement, resource))) {
        violations.push(`${statement.where}: wildcard in resource ${resource}`);
      }
    }
  }
  // Without a source ARN, any resource of that service, in any account, may invoke the function.
  for (const permission of model.invokePermissions) {
    if (permission.principal.endsWith('.amazonaws.com') && !permission.sourceArn) violations.push(`${permission.where}: ${permission.principal} may invoke the function from any source (no source ARN)`);
  }
  for (const rule of model.ingress) {
    if (rule.fromPort <= 22 && 22 <= rule.toPort) violations.push(`${rule.where}: ingress on port 22`);
    if (rule.cidr !== null && OPEN.has(rule.cidr)) {
      const portsOk = rule.fromPort === rule.toPort && LOAD_BALANCER_PORTS.has(rule.fromPort);
      if (!rule.loadBalancer || !portsOk) violations.push(`${rule.where}: ingress from ${rule.cidr} on ${rule.fromPort}-${rule.toPort}`);
    }
  }
  for (const store of model.encryption) if (!store.encrypted) violations.push(`${store.where}: ${store.kind} not encrypted at rest`);
  for (const template of model.instanceMetadata) if (!template.tokensRequired) violations.push(`${template.where}: IMDSv2 (http tokens) not required`);
  for (const bucket of model.buckets) if (!bucket.publicAccessBlocked) violations.push(`${bucket.where}: public access not blocked`);
  return violations;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
const list = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(text) : [text(value)]);

function toStatement(where: string, raw: Record<string, unknown>, keyPolicy: boolean): Statement {
  return {
    where,
    effect: String(raw.Effect),
    actions: list(raw.Action ?? raw.NotAction),
    notAction: raw.NotAction !== undefined,
    resources: list(raw.Resource ?? raw.NotResource),
    keyPolicy,
  };
}

// ---------------------------------------------------------------- CloudFormation

/** What a value can be: both branches of an Fn::If (a rule must hold either way), none for AWS::NoValue. */
function branches(value: unknown): Record<string, unknown>[] {
  if (value && typeof value === 'object' && 'Fn::If' in value) {
    const [, whenTrue, whenFalse] = (value as { 'Fn::If': [string, unknown, unknown] })['Fn::If'];
    return [...branches(whenTrue), ...branches(whenFalse)];
  }
  if (value && typeof value === 'object' && (value as { Ref?: string }).Ref === 'AWS::NoValue') return [];
  return [value as Record<string, unknown>];
}

export function cloudFormationModel(...templates: CfnTemplate[]): SecurityModel {
  const model: SecurityModel = { statements: [], invokePermissions: [], ingress: [], encryption: [], instanceMetadata: [], buckets: [] };
  for (const template of templates) {
    for (const { where, statement } of policyStatements(template)) {
      model.statements.push(toStatement(where, statement as unknown as Record<string, unknown>, where.endsWith('.KeyPolicy')));
    }
    const resources = Object.entries(template.Resources);
    const loadBalancerGroups = new Set(
      resources
        .filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer')
        .flatMap(([, r]) => ((r.Properties?.SecurityGroups as { Ref?: string }[] | undefined) ?? []).map((group) => group.Ref)),
    );
    const addIngress = (where: string, groupId: string | undefined, rule: Record<string, unknown>) => {
      const cidr = resolveDefault(template, rule.CidrIp ?? rule.CidrIpv6);
      model.ingress.push({
        where,
        fromPort: Number(resolveDefault(template, rule.FromPort ?? 0)),
        toPort: Number(resolveDefault(template, rule.ToPort ?? 65535)),
        cidr: cidr === undefined ? null : text(cidr),
        loadBalancer: groupId !== undefined && loadBalancerGroups.has(groupId),
      });
    };
    for (const [id, r] of resources) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::EC2::SecurityGroup') {
        ((p.SecurityGroupIngress as unknown[] | undefined) ?? []).forEach((rule, i) => {
          for (const branch of branches(rule)) addIngress(`${id}.SecurityGroupIngress[${i}]`, id, branch);
        });
      }
      if (r.Type === 'AWS::EC2::SecurityGroupIngress') addIngress(id, (p.GroupId as { Ref?: string } | undefined)?.Ref, p);
      if (r.Type === 'AWS::Lambda::Permission') model.invokePermissions.push({ where: id, principal: text(p.Principal), sourceArn: p.SourceArn === undefined ? null : text(p.SourceArn) });
      if (r.Type === 'AWS::SQS::Queue') model.encryption.push({ where: id, kind: 'queue', encrypted: p.SqsManagedSseEnabled === true || p.KmsMasterKeyId !== undefined });
      if (r.Type === 'AWS::SNS::Topic') model.encryption.push({ where: id, kind: 'topic', encrypted: p.KmsMasterKeyId !== undefined });
      if (r.Type === 'AWS::DynamoDB::Table') model.encryption.push({ where: id, kind: 'table', encrypted: (p.SSESpecification as { SSEEnabled?: boolean } | undefined)?.SSEEnabled === true });
      if (r.Type === 'AWS::S3::Bucket') {
        model.encryption.push({ where: id, kind: 'bucket', encrypted: p.BucketEncryption !== undefined });
        const block = (p.PublicAccessBlockConfiguration ?? {}) as Record<string, unknown>;
        model.buckets.push({ where: id, publicAccessBlocked: ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].every((flag) => block[flag] === true) });
      }
      if (r.Type === 'AWS::EC2::LaunchTemplate') {
        const data = (p.LaunchTemplateData ?? {}) as { MetadataOptions?: { HttpTokens?: string }; BlockDeviceMappings?: { Ebs?: { Encrypted?: boolean } }[] };
        model.instanceMetadata.push({ where: id, tokensRequired: data.MetadataOptions?.HttpTokens === 'required' });
        (data.BlockDeviceMappings ?? []).forEach((mapping, i) => model.encryption.push({ where: `${id}.BlockDeviceMappings[${i}]`, kind: 'volume', encrypted: mapping.Ebs?.Encrypted === true }));
      }
      if (r.Type === 'AWS::EC2::Volume') model.encryption.push({ where: id, kind: 'volume', encrypted: p.Encrypted === true });
    }
  }
  return model;
}

// ---------------------------------------------------------------- Terraform

type Blocks = Record<string, Record<string, Record<string, unknown>[]>>;

export interface ParsedModule {
  resource: Blocks;
  variable: Record<string, { default?: unknown }[]>;
  locals: Record<string, unknown>[];
}

/** A module's .tf files (or the given texts) as one JSON document. */
export async function parseModule(dir: string, extra: Record<string, string> = {}): Promise<ParsedModule> {
  const merged: ParsedModule = { resource: {}, variable: {}, locals: [] };
  const files = Object.fromEntries(readdirSync(dir).filter((file) => file.endsWith('.tf')).map((file) => [file, readFileSync(join(dir, file), 'utf8')]));
  for (const [file, text] of Object.entries({ ...files, ...extra })) {
    const parsed = (await parse(file, text)) as { resource?: Blocks; variable?: ParsedModule['variable']; locals?: Record<string, unknown>[] };
    for (const [type, byName] of Object.entries(parsed.resource ?? {})) Object.assign((merged.resource[type] ??= {}), byName);
    Object.assign(merged.variable, parsed.variable ?? {});
    merged.locals.push(...(parsed.locals ?? []));
  }
  return merged;
}

/** `${expr}` -> expr; a literal -> its HCL form. */
function expression(value: unknown): string {
  if (typeof value === 'string') {
    const match = /^\$\{([\s\S]*)\}$/.exec(value);
    return match ? match[1]! : JSON.stringify(value);
  }
  return JSON.stringify(value ?? null);
}

/** Every `jsonencode({ ... Statement ... })` in the module, parsed back into statements. */
async function terraformStatements(module: ParsedModule): Promise<Statement[]> {
  const found: Statement[] = [];
  const visit = async (where: string, value: unknown, keyPolicy: boolean): Promise<void> => {
    if (typeof value === 'string') {
      const match = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(value);
      if (!match || !match[1]!.includes('Statement')) return;
      const { document } = (await parse('policy.tf', `document = ${match[1]}\n`)) as { document: { Statement?: unknown } };
      const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
      statements.forEach((statement, i) => found.push(toStatement(`${where}.Statement[${i}]`, statement as Record<string, unknown>, keyPolicy)));
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) await visit(`${where}[${i}]`, item, keyPolicy);
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) await visit(`${where}.${key}`, item, keyPolicy);
    }
  };
  for (const [type, byName] of Object.entries(module.resource)) {
    for (const [name, blocks] of Object.entries(byName)) await visit(`${type}.${name}`, blocks, type === 'aws_kms_key');
  }
  return found;
}

/** Evaluates HCL expressions against the module's variables and locals, one JSON value each. */
export async function evaluate(session: TerraformSession, module: ModuleName, expressions: string[], vars: Record<string, string>): Promise<unknown[]> {
  // One console a question: given several lines at once, it answers only the last.
  const answers: unknown[] = [];
  for (const expression of expressions) answers.push(...(await evaluateAll(session, module, [expression], vars)));
  return answers;
}

function evaluateAll(session: TerraformSession, module: ModuleName, expressions: string[], vars: Record<string, string>): Promise<unknown[]> {
  const dir = session.workspaces.get(module)!.dir;
  const args = ['console', ...Object.entries(vars).map(([name, value]) => `-var=${name}=${value}`)];
  return new Promise((resolve, reject) => {
    const child = spawn(session.terraform, args, { cwd: dir, env: terraformEnv(session.cliConfigFile), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((line) => line.startsWith('"'));
      if (code !== 0 || lines.length !== expressions.length) return reject(new Error(`terraform console failed (${code}): ${stderr}\n${stdout}`));
      // Each answer is jsonencode(...): an HCL string holding JSON.
      resolve(lines.map((line) => JSON.parse(JSON.parse(line) as string) as unknown));
    });
    child.stdin.end(expressions.map((text) => `jsonencode(${text.replace(/\n/g, ' ')})`).join('\n') + '\n');
  });
}

/** The module's facts: statements parsed, the rest read from its blocks, ports and CIDRs evaluated by Terraform. */
export async function terraformModel(module: ParsedModule, evaluateIn: (expressions: string[]) => Promise<unknown[]>): Promise<SecurityModel> {
  const model: SecurityModel = { statements: await terraformStatements(module), invokePermissions: [], ingress: [], encryption: [], instanceMetadata: [], buckets: [] };
  const blocks = (type: string) => Object.entries(module.resource[type] ?? {}).map(([name, [block]]) => [name, block ?? {}] as const);
  const refersTo = (value: unknown, type: string, name: string) => typeof value === 'string' && value.includes(`${type}.${name}.`);

  const loadBalancerGroups = blocks('aws_lb').flatMap(([, block]) => [...String(block.security_groups).matchAll(/aws_security_group\.(\w+)\./g)].map((m) => m[1]!));
  // Ingress rules: each rule's instances (for_each expanded) with ports and CIDR as Terraform computes them.
  const rules = blocks('aws_vpc_security_group_ingress_rule');
  const questions = rules.map(([, block]) => {
    const row = `{ from_port = ${expression(block.from_port ?? 0)}, to_port = ${expression(block.to_port ?? 65535)}, cidr = ${block.cidr_ipv4 !== undefined ? expression(block.cidr_ipv4) : block.cidr_ipv6 !== undefined ? expression(block.cidr_ipv6) : 'null'} }`;
    const forEach = block.for_each;
    return forEach === undefined ? `[${row}]` : `[for k, v in ${expression(forEach)} : ${row.replace(/each\.value/g, 'v').replace(/each\.key/g, 'k')}]`;
  });
  const answers = questions.length > 0 ? await evaluateIn(questions) : [];
  rules.forEach(([name, block], i) => {
    const group = /aws_security_group\.(\w+)\./.exec(String(block.security_group_id))?.[1];
    for (const instance of answers[i] as { from_port: number; to_port: number; cidr: string | null }[]) {
      model.ingress.push({ where: `aws_vpc_security_group_ingress_rule.${name}`, fromPort: Number(instance.from_port), toPort: Number(instance.to_port), cidr: instance.cidr, loadBalancer: group !== undefined && loadBalancerGroups.includes(group) });
    }
  });
  // Rules written any other way are not read here: refuse them rather than pass them unread.
  for (const [name, block] of blocks('aws_security_group')) {
    if (block.ingress !== undefined) model.ingress.push({ where: `aws_security_group.${name} (inline ingress, write it as aws_vpc_security_group_ingress_rule)`, fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0', loadBalancer: false });
  }
  for (const [name] of blocks('aws_security_group_rule')) {
    model.ingress.push({ where: `aws_security_group_rule.${name} (write it as aws_vpc_security_group_ingress_rule)`, fromPort: 0, toPort: 65535, cidr: '0.0.0.0/0', loadBalancer: false });
  }

  for (const [name, block] of blocks('aws_lambda_permission')) {
    model.invokePermissions.push({ where: `aws_lambda_permission.${name}`, principal: text(block.principal), sourceArn: block.source_arn === undefined ? null : text(block.source_arn) });
  }

  for (const [name, block] of blocks('aws_sqs_queue')) model.encryption.push({ where: `aws_sqs_queue.${name}`, kind: 'queue', encrypted: block.sqs_managed_sse_enabled === true || block.kms_master_key_id !== undefined });
  for (const [name, block] of blocks('aws_sns_topic')) model.encryption.push({ where: `aws_sns_topic.${name}`, kind: 'topic', encrypted: block.kms_master_key_id !== undefined });
  for (const [name, block] of blocks('aws_dynamodb_table')) {
    const sse = (block.server_side_encryption as { enabled?: boolean }[] | undefined)?.[0];
    model.encryption.push({ where: `aws_dynamodb_table.${name}`, kind: 'table', encrypted: sse?.enabled === true });
  }
  for (const [name] of blocks('aws_s3_bucket')) {
    const encrypted = blocks('aws_s3_bucket_server_side_encryption_configuration').some(([, block]) => refersTo(block.bucket, 'aws_s3_bucket', name));
    model.encryption.push({ where: `aws_s3_bucket.${name}`, kind: 'bucket', encrypted });
    const access = blocks('aws_s3_bucket_public_access_block').find(([, block]) => refersTo(block.bucket, 'aws_s3_bucket', name))?.[1];
    model.buckets.push({ where: `aws_s3_bucket.${name}`, publicAccessBlocked: ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].every((flag) => access?.[flag] === true) });
  }
  for (const [name, block] of blocks('aws_launch_template')) {
    const metadata = (block.metadata_options as { http_tokens?: string }[] | undefined)?.[0];
    model.instanceMetadata.push({ where: `aws_launch_template.${name}`, tokensRequired: metadata?.http_tokens === 'required' });
    for (const [i, mapping] of ((block.block_device_mappings as { ebs?: { encrypted?: boolean | string }[] }[] | undefined) ?? []).entries()) {
      const encrypted = mapping.ebs?.[0]?.encrypted;
      model.encryption.push({ where: `aws_launch_template.${name}.block_device_mappings[${i}]`, kind: 'volume', encrypted: encrypted === true || encrypted === 'true' });
    }
  }
  for (const [name, block] of blocks('aws_ebs_volume')) model.encryption.push({ where: `aws_ebs_volume.${name}`, kind: 'volume', encrypted: block.encrypted === true });
  return model;
}
