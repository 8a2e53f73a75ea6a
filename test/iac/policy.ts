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
  condition?: unknown;
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
  /** AWS Control Tower proactive controls, the same for both tools (CONTROLS), one fact a resource each. */
  controls: ControlFact[];
}

/**
 * The AWS Control Tower proactive controls this policy holds both tools to: those cfn-guard checks on
 * the templates (test/iac/cfn-guard.test.ts) that the Terraform modules can be read for here. Each
 * id is Control Tower's rule name.
 */
export const CONTROLS = {
  api_gw_execution_logging: 'api_gw_v1_execution_logging_enabled_check: the stage logs every method at ERROR or INFO',
  api_gw_xray: 'api_gw_xray_enabled_check: the stage traces with X-Ray',
  alarm_actions: 'cloudwatch_alarm_action_check: every alarm notifies someone, with its actions enabled',
  log_group_retention: 'cloudwatch_log_group_retention_period_check: every log group has a retention',
  dynamodb_pitr: 'dynamodb_table_pitr_enabled_check: every table has point-in-time recovery',
  kms_rotation: 'kms_key_rotation_enabled_check: every key rotates',
  kms_grants: 'kms_create_grant_aws_service_check: every key policy denies grants except for AWS resources',
  sqs_dlq: 'sqs_dlq_check: every queue has a dead-letter queue, or is one',
  waf_not_empty: 'wafv2_webacl_not_empty_check: every web ACL has rules',
  alb_drop_invalid_headers: 'alb_http_drop_invalid_header_enabled_check: the load balancer drops invalid header fields',
  alb_desync: 'alb_desync_mode_check: the load balancer is not in monitor desync mode',
  alb_logging: 'elbv2_logging_enabled_check: the load balancer writes access logs',
  asg_elb_health: 'autoscaling_group_elb_healthcheck_required_check: the group uses the load balancer\'s health checks',
  asg_launch_template: 'autoscaling_launch_template_check: the group launches from a launch template',
  lt_no_public_ip: 'ec2_launch_template_public_ip_disabled_check: instances get no public address',
  lt_hop_limit: 'ec2_launch_template_token_hop_limit_check: the metadata token reaches one hop only',
  lt_monitoring: 'ec2_launch_template_monitoring_enabled_check: detailed monitoring is on',
  subnet_no_public_ip: 'subnet_auto_assign_public_ip_disabled_check: no subnet assigns public addresses',
  s3_acl_prohibited: 's3_bucket_acl_prohibited_check: every bucket is owner-enforced (no ACLs)',
  s3_tls_only: 's3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
  s3_lifecycle: 's3_lifecycle_policy_check: every bucket has a lifecycle',
  s3_version_lifecycle: 's3_version_lifecycle_policy_check: every versioned bucket expires old versions',
} as const;

export type Control = keyof typeof CONTROLS;

export interface ControlFact {
  where: string;
  control: Control;
  ok: boolean;
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
  for (const fact of model.controls) if (!fact.ok) violations.push(`${fact.where}: fails ${CONTROLS[fact.control]}`);
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
    condition: raw.Condition,
  };
}

type Raw = Record<string, unknown>;

/** A key policy statement that denies every grant but those for AWS resources (Control Tower's form). */
function deniesGrantsExceptForAwsResources(statement: Raw): boolean {
  const condition = (statement.Condition as { BoolIfExists?: Raw } | undefined)?.BoolIfExists ?? {};
  return (
    statement.Effect === 'Deny' &&
    list(statement.Action).every((action) => action === 'kms:CreateGrant') &&
    (statement.Principal === '*' || (statement.Principal as Raw | undefined)?.AWS === '*') &&
    String(condition['kms:GrantIsForAWSResource']) === 'false' &&
    String(condition['aws:PrincipalIsAWSService']) === 'false'
  );
}

/** A bucket policy statement that denies everything without TLS. */
function deniesWithoutTls(statement: Raw): boolean {
  return (
    statement.Effect === 'Deny' &&
    list(statement.Action).some((action) => action === 's3:*' || action === '*') &&
    (statement.Principal === '*' || (statement.Principal as Raw | undefined)?.AWS === '*') &&
    String((statement.Condition as { Bool?: Raw } | undefined)?.Bool?.['aws:SecureTransport']) === 'false'
  );
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
  const model: SecurityModel = { statements: [], invokePermissions: [], ingress: [], encryption: [], instanceMetadata: [], buckets: [], controls: [] };
  for (const template of templates) {
    model.controls.push(...cloudFormationControls(template));
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


/** The Control Tower controls' facts of one template, read with its parameters at their defaults. */
function cloudFormationControls(template: CfnTemplate): ControlFact[] {
  const facts: ControlFact[] = [];
  const fact = (where: string, control: Control, ok: boolean) => facts.push({ where, control, ok });
  const v = (value: unknown) => resolveDefault(template, value);
  const resources = Object.entries(template.Resources);
  const statementsOf = (document: unknown): Raw[] => {
    const statement = (document as { Statement?: Raw | Raw[] } | undefined)?.Statement;
    return statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
  };
  const refTo = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref ?? (value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
  const deadLetterTargets = new Set(resources.map(([, r]) => refTo((r.Properties?.RedrivePolicy as Raw | undefined)?.deadLetterTargetArn)).filter(Boolean));
  for (const [id, r] of resources) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::ApiGateway::Stage': {
        fact(id, 'api_gw_xray', p.TracingEnabled === true);
        const all = ((p.MethodSettings as Raw[] | undefined) ?? []).find((setting) => setting.ResourcePath === '/*' && setting.HttpMethod === '*');
        fact(id, 'api_gw_execution_logging', ['ERROR', 'INFO'].includes(String(v(all?.LoggingLevel))));
        break;
      }
      case 'AWS::CloudWatch::Alarm':
        fact(id, 'alarm_actions', ((p.AlarmActions as unknown[] | undefined) ?? []).length > 0 && p.ActionsEnabled !== false);
        break;
      case 'AWS::Logs::LogGroup':
        fact(id, 'log_group_retention', v(p.RetentionInDays) !== undefined);
        break;
      case 'AWS::DynamoDB::Table':
        fact(id, 'dynamodb_pitr', (p.PointInTimeRecoverySpecification as Raw | undefined)?.PointInTimeRecoveryEnabled === true);
        break;
      case 'AWS::KMS::Key':
        fact(id, 'kms_rotation', p.EnableKeyRotation === true);
        fact(id, 'kms_grants', statementsOf(p.KeyPolicy).some(deniesGrantsExceptForAwsResources));
        break;
      case 'AWS::SQS::Queue':
        fact(id, 'sqs_dlq', refTo((p.RedrivePolicy as Raw | undefined)?.deadLetterTargetArn) !== undefined || deadLetterTargets.has(id));
        break;
      case 'AWS::WAFv2::WebACL':
        fact(id, 'waf_not_empty', ((p.Rules as unknown[] | undefined) ?? []).length > 0);
        break;
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const attributes = Object.fromEntries(((p.LoadBalancerAttributes as { Key: string; Value: unknown }[] | undefined) ?? []).map(({ Key, Value }) => [Key, String(v(Value))]));
        fact(id, 'alb_drop_invalid_headers', attributes['routing.http.drop_invalid_header_fields.enabled'] === 'true');
        fact(id, 'alb_desync', attributes['routing.http.desync_mitigation_mode'] !== 'monitor');
        fact(id, 'alb_logging', attributes['access_logs.s3.enabled'] === 'true');
        break;
      }
      case 'AWS::AutoScaling::AutoScalingGroup':
        fact(id, 'asg_elb_health', p.HealthCheckType === 'ELB');
        fact(id, 'asg_launch_template', refTo((p.LaunchTemplate as Raw | undefined)?.LaunchTemplateId) !== undefined);
        break;
      case 'AWS::EC2::LaunchTemplate': {
        const data = (p.LaunchTemplateData ?? {}) as { NetworkInterfaces?: Raw[]; MetadataOptions?: Raw; Monitoring?: Raw };
        fact(id, 'lt_no_public_ip', (data.NetworkInterfaces ?? []).every((network) => network.AssociatePublicIpAddress !== true));
        fact(id, 'lt_hop_limit', Number(data.MetadataOptions?.HttpPutResponseHopLimit ?? 1) <= 1);
        fact(id, 'lt_monitoring', data.Monitoring?.Enabled === true);
        break;
      }
      case 'AWS::EC2::Subnet':
        fact(id, 'subnet_no_public_ip', p.MapPublicIpOnLaunch !== true);
        break;
      case 'AWS::S3::Bucket': {
        const rules = ((p.OwnershipControls as { Rules?: Raw[] } | undefined)?.Rules ?? []).map((rule) => rule.ObjectOwnership);
        fact(id, 's3_acl_prohibited', rules.includes('BucketOwnerEnforced'));
        const policies = resources.filter(([, other]) => other.Type === 'AWS::S3::BucketPolicy' && refTo(other.Properties?.Bucket) === id);
        fact(id, 's3_tls_only', policies.some(([, policy]) => statementsOf(policy.Properties?.PolicyDocument).some(deniesWithoutTls)));
        const lifecycle = ((p.LifecycleConfiguration as { Rules?: Raw[] } | undefined)?.Rules ?? []).filter((rule) => rule.Status === 'Enabled');
        fact(id, 's3_lifecycle', lifecycle.length > 0);
        if ((p.VersioningConfiguration as Raw | undefined)?.Status === 'Enabled') fact(id, 's3_version_lifecycle', lifecycle.some((rule) => rule.NoncurrentVersionExpiration !== undefined));
        break;
      }
    }
  }
  return facts;
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


/** A literal, or the default of the variable it names (`${var.x}`). */
function literal(module: ParsedModule, value: unknown): unknown {
  const name = typeof value === 'string' ? /^\$\{var\.(\w+)\}$/.exec(value)?.[1] : undefined;
  return name ? module.variable[name]?.[0]?.default : value;
}

/** `${jsonencode({...})}` parsed into its document, or undefined. */
async function jsonencodedDocument(value: unknown): Promise<Raw | undefined> {
  const match = typeof value === 'string' ? /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(value) : null;
  if (!match) return undefined;
  return ((await parse('document.tf', `document = ${match[1]}\n`)) as { document: Raw }).document;
}

/** The Control Tower controls' facts of one module, with variables at their defaults. */
async function terraformControls(module: ParsedModule): Promise<ControlFact[]> {
  const facts: ControlFact[] = [];
  const fact = (where: string, control: Control, ok: boolean) => facts.push({ where, control, ok });
  const blocks = (type: string) => Object.entries(module.resource[type] ?? {}).map(([name, [block]]) => [name, block ?? {}] as const);
  const first = (value: unknown) => (Array.isArray(value) ? (value[0] as Raw | undefined) : undefined) ?? {};
  const refersTo = (value: unknown, type: string, name: string) => typeof value === 'string' && value.includes(`${type}.${name}.`);
  const statementsOf = (document: Raw | undefined): Raw[] => {
    const statement = document?.Statement as Raw | Raw[] | undefined;
    return statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
  };

  for (const [name, block] of blocks('aws_api_gateway_stage')) {
    fact(`aws_api_gateway_stage.${name}`, 'api_gw_xray', block.xray_tracing_enabled === true);
    const all = blocks('aws_api_gateway_method_settings').find(([, settings]) => settings.method_path === '*/*' && refersTo(settings.stage_name, 'aws_api_gateway_stage', name))?.[1];
    fact(`aws_api_gateway_stage.${name}`, 'api_gw_execution_logging', ['ERROR', 'INFO'].includes(String(literal(module, first(all?.settings).logging_level))));
  }
  for (const [name, block] of blocks('aws_cloudwatch_metric_alarm')) {
    const actions = block.alarm_actions;
    fact(`aws_cloudwatch_metric_alarm.${name}`, 'alarm_actions', Array.isArray(actions) && actions.length > 0 && block.actions_enabled !== false);
  }
  for (const [name, block] of blocks('aws_cloudwatch_log_group')) fact(`aws_cloudwatch_log_group.${name}`, 'log_group_retention', literal(module, block.retention_in_days) !== undefined);
  for (const [name, block] of blocks('aws_dynamodb_table')) fact(`aws_dynamodb_table.${name}`, 'dynamodb_pitr', first(block.point_in_time_recovery).enabled === true);
  for (const [name, block] of blocks('aws_kms_key')) {
    fact(`aws_kms_key.${name}`, 'kms_rotation', block.enable_key_rotation === true);
    fact(`aws_kms_key.${name}`, 'kms_grants', statementsOf(await jsonencodedDocument(block.policy)).some(deniesGrantsExceptForAwsResources));
  }
  const queues = blocks('aws_sqs_queue');
  for (const [name, block] of queues) {
    const redrives = typeof block.redrive_policy === 'string' && block.redrive_policy.includes('deadLetterTargetArn');
    const isDeadLetterQueue = queues.some(([, other]) => typeof other.redrive_policy === 'string' && other.redrive_policy.includes(`aws_sqs_queue.${name}.arn`));
    fact(`aws_sqs_queue.${name}`, 'sqs_dlq', redrives || isDeadLetterQueue);
  }
  for (const [name, block] of blocks('aws_wafv2_web_acl')) fact(`aws_wafv2_web_acl.${name}`, 'waf_not_empty', Array.isArray(block.rule) && block.rule.length > 0);
  for (const [name, block] of blocks('aws_lb')) {
    fact(`aws_lb.${name}`, 'alb_drop_invalid_headers', block.drop_invalid_header_fields === true);
    fact(`aws_lb.${name}`, 'alb_desync', block.desync_mitigation_mode !== 'monitor');
    fact(`aws_lb.${name}`, 'alb_logging', first(block.access_logs).enabled === true);
  }
  for (const [name, block] of blocks('aws_autoscaling_group')) {
    fact(`aws_autoscaling_group.${name}`, 'asg_elb_health', block.health_check_type === 'ELB');
    fact(`aws_autoscaling_group.${name}`, 'asg_launch_template', first(block.launch_template).id !== undefined);
  }
  for (const [name, block] of blocks('aws_launch_template')) {
    const interfaces = (block.network_interfaces as Raw[] | undefined) ?? [];
    fact(`aws_launch_template.${name}`, 'lt_no_public_ip', interfaces.every((network) => String(network.associate_public_ip_address) !== 'true'));
    fact(`aws_launch_template.${name}`, 'lt_hop_limit', Number(first(block.metadata_options).http_put_response_hop_limit ?? 1) <= 1);
    fact(`aws_launch_template.${name}`, 'lt_monitoring', first(block.monitoring).enabled === true);
  }
  for (const [name, block] of blocks('aws_subnet')) fact(`aws_subnet.${name}`, 'subnet_no_public_ip', block.map_public_ip_on_launch !== true);
  for (const [name] of blocks('aws_s3_bucket')) {
    const of = (type: string) => blocks(type).filter(([, other]) => refersTo(other.bucket, 'aws_s3_bucket', name)).map(([, other]) => other);
    fact(`aws_s3_bucket.${name}`, 's3_acl_prohibited', of('aws_s3_bucket_ownership_controls').some((controls) => first(controls.rule).object_ownership === 'BucketOwnerEnforced'));
    const documents = await Promise.all(of('aws_s3_bucket_policy').map((policy) => jsonencodedDocument(policy.policy)));
    fact(`aws_s3_bucket.${name}`, 's3_tls_only', documents.some((document) => statementsOf(document).some(deniesWithoutTls)));
    const rules = of('aws_s3_bucket_lifecycle_configuration').flatMap((lifecycle) => (lifecycle.rule as Raw[] | undefined) ?? []).filter((rule) => rule.status === 'Enabled');
    fact(`aws_s3_bucket.${name}`, 's3_lifecycle', rules.length > 0);
    if (of('aws_s3_bucket_versioning').some((versioning) => first(versioning.versioning_configuration).status === 'Enabled')) {
      fact(`aws_s3_bucket.${name}`, 's3_version_lifecycle', rules.some((rule) => rule.noncurrent_version_expiration !== undefined));
    }
  }
  return facts;
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
  const model: SecurityModel = { statements: await terraformStatements(module), invokePermissions: [], ingress: [], encryption: [], instanceMetadata: [], buckets: [], controls: await terraformControls(module) };
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
