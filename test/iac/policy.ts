// The security policy both deployments must meet, over one model read from either: Terraform (`terraform
// show -json` of a plan, every value as Terraform evaluated it) or CloudFormation (the templates as
// cfn-lint and cfn-guard read them). `findViolations` is the policy; the extractors only gather facts.
import { policyStatements, resolveDefault, resolveWith, type CfnTemplate } from './cloudformation.js';
import { allPlanned, configuredBlock, modulePathOf, type PlanDocument } from './terraform-cli.js';

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
  /** Every key pair an instance or launch template names, or the stack defines: there is no SSH (Session Manager instead). */
  keyPairs: { where: string; keyName: string }[];
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

/** What the web instances may do to their own order-events queues, and only to those (by name prefix). */
const EVENT_QUEUE_ACTIONS = new Set([
  'sqs:CreateQueue',
  'sqs:DeleteQueue',
  'sqs:GetQueueAttributes',
  'sqs:SetQueueAttributes',
  'sqs:TagQueue',
  'sqs:ListQueueTags',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
]);

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
  {
    // sqs:ListQueues alone in its statement: nothing else may ride on this exception.
    applies: (statement) => statement.actions.length === 1 && statement.actions[0] === 'sqs:ListQueues',
    reason: "sqs:ListQueues (the web tier's sweep of stale event queues) has no resource type in IAM; it answers queue URLs, never messages or attributes.",
  },
];

/** A "*" inside a resource ARN (not Resource "*" itself) where that is the narrowest there is, each with its reason. */
export const PARTIAL_WILDCARDS_ALLOWED: { applies: (statement: Statement, resource: string) => boolean; reason: string }[] = [
  {
    // The ARN as a plan against state holds it; CloudFormation's Fn::GetAtt LogGroup.Arn already ends in :*.
    applies: (statement, resource) =>
      /^arn:aws[\w-]*:logs:[\w-]+:\d{12}:log-group:[^:*]+:\*$/.test(resource) && statement.actions.every((action) => action === 'logs:CreateLogStream' || action === 'logs:PutLogEvents'),
    reason: "A function's own log group's streams (<log group ARN>:*): Lambda names a new stream for each execution environment.",
  },
  {
    // The plan's <log group ARN>:*, and CloudFormation's Fn::Sub of the instances' group.
    applies: (statement, resource) =>
      (/^arn:aws[\w-]*:logs:[\w-]+:\d{12}:log-group:[^:*]+:\*$/.test(resource) || /log-group:\$\{InstanceLogGroup\}:\*"\}$/.test(resource)) &&
      statement.actions.every((action) => ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'].includes(action)),
    reason: "The web instances' log group's streams: the CloudWatch agent names one per instance and file ({instance_id}/app, ...), known only at boot, and looks its streams up before writing.",
  },
  {
    // <access log bucket ARN>/<prefix>/AWSLogs/<account>/*, as a plan holds it and as CloudFormation's Fn::Sub writes it.
    applies: (statement, resource) =>
      statement.actions.every((action) => action === 's3:PutObject') &&
      (/^arn:aws[\w-]*:s3:::[^/*]+\/[^*]*\/AWSLogs\/\d{12}\/\*$/.test(resource) || /AccessLogBucket\.Arn\}\/[^*]*\/AWSLogs\/\$\{AWS::AccountId\}\/\*"\}$/.test(resource)),
    reason: "Elastic Load Balancing writes access log objects under <prefix>/AWSLogs/<account>/ with names it chooses (date, load balancer, address).",
  },
  {
    // <prefix>order-web-events-*, as a plan holds the ARN and as CloudFormation's Fn::Sub writes it.
    applies: (statement, resource) =>
      statement.actions.length > 0 &&
      statement.actions.every((action) => EVENT_QUEUE_ACTIONS.has(action)) &&
      (/^arn:aws[\w-]*:sqs:[\w-]+:\d{12}:[a-z0-9-]*order-web-events-\*$/.test(resource) || resource === '{"Fn::Sub":"arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${NamePrefix}order-web-events-*"}'),
    reason: "The web processes' own order-events queues (<prefix>order-web-events-<16 hex digits>): each process names its queue at start, so the prefix is all that is known beforehand.",
  },
  {
    // <order-events topic ARN>:*, as a plan holds it and as CloudFormation's Fn::Sub writes it: Unsubscribe alone.
    applies: (statement, resource) =>
      statement.actions.length === 1 &&
      statement.actions[0] === 'sns:Unsubscribe' &&
      (/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+:\*$/.test(resource) || resource === '{"Fn::Sub":"${OrderEventsTopicArn}:*"}'),
    reason: "The order-events topic's subscriptions (<topic ARN>:<id>), which an Unsubscribe request names: the web processes remove their own queues' subscriptions, whose ids SNS assigns.",
  },
];

/** The controls the models hold facts of, so that a control nothing was read for cannot pass unnoticed. */
export function controlsFound(...models: SecurityModel[]): Set<Control> {
  return new Set(models.flatMap((model) => model.controls.map((fact) => fact.control)));
}

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
  for (const key of model.keyPairs) violations.push(`${key.where}: key pair ${key.keyName} (no SSH here: Session Manager)`);
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
  const model: SecurityModel = { statements: [], invokePermissions: [], ingress: [], encryption: [], instanceMetadata: [], keyPairs: [], buckets: [], controls: [] };
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
      // A standalone instance (the NAT instance) sets its metadata options and volumes itself.
      if (r.Type === 'AWS::EC2::Instance') {
        const instance = p as { MetadataOptions?: { HttpTokens?: string }; BlockDeviceMappings?: { Ebs?: { Encrypted?: boolean } }[] };
        model.instanceMetadata.push({ where: id, tokensRequired: instance.MetadataOptions?.HttpTokens === 'required' });
        const mappings = instance.BlockDeviceMappings ?? [];
        if (mappings.length === 0) model.encryption.push({ where: `${id}.BlockDeviceMappings`, kind: 'volume', encrypted: false });
        mappings.forEach((mapping, i) => model.encryption.push({ where: `${id}.BlockDeviceMappings[${i}]`, kind: 'volume', encrypted: mapping.Ebs?.Encrypted === true }));
      }
      if (r.Type === 'AWS::EC2::Volume') model.encryption.push({ where: id, kind: 'volume', encrypted: p.Encrypted === true });
      const keyName = r.Type === 'AWS::EC2::LaunchTemplate' ? (p.LaunchTemplateData as { KeyName?: unknown } | undefined)?.KeyName : r.Type === 'AWS::EC2::Instance' ? p.KeyName : undefined;
      if (keyName !== undefined) model.keyPairs.push({ where: id, keyName: text(keyName) });
      if (r.Type === 'AWS::EC2::KeyPair') model.keyPairs.push({ where: id, keyName: text(p.KeyName) });
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
        // With the parameters at their defaults (DetailedMonitoring 'true'), as every fact here.
        fact(id, 'lt_monitoring', resolveWith(template, data.Monitoring?.Enabled) === true);
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

interface PlannedFacts {
  address: string;
  type: string;
  values: Raw;
  /** The resource's arguments and blocks as its configuration sets them (the plan's `configuration`). */
  declared: Raw;
}

/** The plan's managed resources, each with what its configuration sets. */
function plannedResources(plan: PlanDocument): PlannedFacts[] {
  // Every module's, the child modules' (terraform-modules/) included: none passes unjudged.
  return allPlanned(plan)
    .filter((resource) => !resource.address.slice(modulePathOf(resource.address).length).startsWith('data.'))
    .map((resource) => ({ address: resource.address, type: resource.type, values: resource.values, declared: configuredBlock(plan, resource.address)?.expressions ?? {} }));
}

const isRaw = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);
/** The one block of a nested block (the plan writes every block as a list). */
const block = (value: unknown): Raw => (Array.isArray(value) && isRaw(value[0]) ? value[0] : {});
const blocks = (value: unknown): Raw[] => (Array.isArray(value) ? value.filter(isRaw) : []);
const statementsIn = (document: unknown): Raw[] => {
  const statement = isRaw(document) ? document.Statement : undefined;
  return statement === undefined ? [] : Array.isArray(statement) ? statement.filter(isRaw) : isRaw(statement) ? [statement] : [];
};
const parsedJson = (value: unknown): unknown => {
  if (typeof value !== 'string' || !value.startsWith('{')) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * Every policy document (a JSON string with a Statement) the configuration sets on a resource, at any
 * depth, with its path. Only what the module sets: what AWS fills in by itself (a topic's default
 * policy, a gateway endpoint's, a queue's copy of its queue policy) is not the module's to judge.
 */
function declaredDocuments(value: unknown, declared: unknown, where: string): { where: string; document: Raw }[] {
  if (typeof value === 'string') {
    const document = value.includes('"Statement"') ? parsedJson(value) : undefined;
    return isRaw(document) && 'Statement' in document ? [{ where, document }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => declaredDocuments(item, Array.isArray(declared) ? (declared[i] ?? declared[0]) : declared, `${where}[${i}]`));
  if (isRaw(value) && isRaw(declared)) return Object.entries(value).flatMap(([key, item]) => (key in declared ? declaredDocuments(item, declared[key], `${where}.${key}`) : []));
  return [];
}

const ALL_PROTOCOLS = new Set(['-1', 'all']);

/** A port, or `fallback` where the rule names none (every port: all protocols, or none given). */
const port = (rule: Raw, key: 'from_port' | 'to_port', fallback: number): number => {
  const value = rule[key];
  return ALL_PROTOCOLS.has(String(rule.ip_protocol ?? rule.protocol)) || typeof value !== 'number' ? fallback : value;
};
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/** The Control Tower controls' facts of one plan. */
function terraformControls(resources: PlannedFacts[]): ControlFact[] {
  const facts: ControlFact[] = [];
  const fact = (where: string, control: Control, ok: boolean) => facts.push({ where, control, ok });
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);

  for (const stage of ofType('aws_api_gateway_stage')) {
    fact(stage.address, 'api_gw_xray', stage.values.xray_tracing_enabled === true);
    const all = ofType('aws_api_gateway_method_settings').find(
      ({ values }) => values.method_path === '*/*' && values.rest_api_id === stage.values.rest_api_id && values.stage_name === stage.values.stage_name,
    );
    fact(stage.address, 'api_gw_execution_logging', ['ERROR', 'INFO'].includes(String(block(all?.values.settings).logging_level)));
  }
  for (const alarm of ofType('aws_cloudwatch_metric_alarm')) {
    const actions = alarm.values.alarm_actions;
    fact(alarm.address, 'alarm_actions', Array.isArray(actions) && actions.length > 0 && alarm.values.actions_enabled !== false);
  }
  // 0 is the provider's "never expire".
  for (const group of ofType('aws_cloudwatch_log_group')) fact(group.address, 'log_group_retention', Number(group.values.retention_in_days ?? 0) > 0);
  for (const table of ofType('aws_dynamodb_table')) fact(table.address, 'dynamodb_pitr', block(table.values.point_in_time_recovery).enabled === true);
  for (const key of ofType('aws_kms_key')) {
    fact(key.address, 'kms_rotation', key.values.enable_key_rotation === true);
    fact(key.address, 'kms_grants', statementsIn(parsedJson(key.values.policy)).some(deniesGrantsExceptForAwsResources));
  }
  const queues = ofType('aws_sqs_queue');
  const deadLetterTargets = new Set<unknown>(queues.map(({ values }) => (parsedJson(values.redrive_policy) as Raw | undefined)?.deadLetterTargetArn).filter((arn) => typeof arn === 'string'));
  for (const queue of queues) {
    const redrives = typeof (parsedJson(queue.values.redrive_policy) as Raw | undefined)?.deadLetterTargetArn === 'string';
    fact(queue.address, 'sqs_dlq', redrives || deadLetterTargets.has(queue.values.arn));
  }
  for (const acl of ofType('aws_wafv2_web_acl')) fact(acl.address, 'waf_not_empty', blocks(acl.values.rule).length > 0);
  for (const lb of ofType('aws_lb')) {
    fact(lb.address, 'alb_drop_invalid_headers', lb.values.drop_invalid_header_fields === true);
    fact(lb.address, 'alb_desync', lb.values.desync_mitigation_mode !== 'monitor');
    fact(lb.address, 'alb_logging', block(lb.values.access_logs).enabled === true);
  }
  for (const group of ofType('aws_autoscaling_group')) {
    fact(group.address, 'asg_elb_health', group.values.health_check_type === 'ELB');
    fact(group.address, 'asg_launch_template', Boolean(block(group.values.launch_template).id));
  }
  for (const template of ofType('aws_launch_template')) {
    // The provider keeps these three-valued flags as strings: "true", "false" or "" (unset).
    fact(template.address, 'lt_no_public_ip', blocks(template.values.network_interfaces).every((network) => String(network.associate_public_ip_address) !== 'true'));
    fact(template.address, 'lt_hop_limit', Number(block(template.values.metadata_options).http_put_response_hop_limit ?? 1) <= 1);
    fact(template.address, 'lt_monitoring', block(template.values.monitoring).enabled === true);
  }
  for (const subnet of ofType('aws_subnet')) fact(subnet.address, 'subnet_no_public_ip', subnet.values.map_public_ip_on_launch !== true);
  for (const bucket of ofType('aws_s3_bucket')) {
    // A bucket's other resources name it by its name, known in a plan against state.
    const of = (type: string) => ofType(type).filter(({ values }) => values.bucket !== undefined && values.bucket === bucket.values.bucket);
    fact(bucket.address, 's3_acl_prohibited', of('aws_s3_bucket_ownership_controls').some(({ values }) => block(values.rule).object_ownership === 'BucketOwnerEnforced'));
    fact(bucket.address, 's3_tls_only', of('aws_s3_bucket_policy').some(({ values }) => statementsIn(parsedJson(values.policy)).some(deniesWithoutTls)));
    const rules = of('aws_s3_bucket_lifecycle_configuration').flatMap(({ values }) => blocks(values.rule)).filter((rule) => rule.status === 'Enabled');
    fact(bucket.address, 's3_lifecycle', rules.length > 0);
    if (of('aws_s3_bucket_versioning').some(({ values }) => block(values.versioning_configuration).status === 'Enabled')) {
      fact(bucket.address, 's3_version_lifecycle', rules.some((rule) => blocks(rule.noncurrent_version_expiration).length > 0));
    }
  }
  return facts;
}

/**
 * The module's facts as Terraform evaluated them: `terraform show -json` of a plan, its planned
 * values (every resource with the values it will have; ARNs and ids known when planned against the
 * applied state) and, for policy documents and inline rules, its configuration (what the module sets).
 * Addresses are the plan's (`aws_iam_role_policy.grants["advance-orders"]`).
 */
export function terraformModel(plan: PlanDocument): SecurityModel {
  const resources = plannedResources(plan);
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);
  const model: SecurityModel = { statements: [], invokePermissions: [], ingress: [], encryption: [], instanceMetadata: [], keyPairs: [], buckets: [], controls: terraformControls(resources) };

  for (const resource of resources) {
    const keyPolicy = resource.type === 'aws_kms_key' || resource.type === 'aws_kms_key_policy';
    for (const { where, document } of declaredDocuments(resource.values, resource.declared, resource.address)) {
      statementsIn(document).forEach((statement, i) => model.statements.push(toStatement(`${where}.Statement[${i}]`, statement, keyPolicy)));
    }
  }

  const loadBalancerGroups = new Set(ofType('aws_lb').flatMap(({ values }) => strings(values.security_groups)));
  for (const rule of ofType('aws_vpc_security_group_ingress_rule')) {
    const cidr = rule.values.cidr_ipv4 ?? rule.values.cidr_ipv6;
    model.ingress.push({
      where: rule.address,
      fromPort: port(rule.values, 'from_port', 0),
      toPort: port(rule.values, 'to_port', 65535),
      cidr: typeof cidr === 'string' && cidr !== '' ? cidr : null,
      loadBalancer: loadBalancerGroups.has(String(rule.values.security_group_id)),
    });
  }
  // The older forms: a rule of its own (aws_security_group_rule) or inline in the group, one fact a CIDR.
  const addRules = (where: string, groupId: unknown, rule: Raw) => {
    const cidrs = [...strings(rule.cidr_blocks), ...strings(rule.ipv6_cidr_blocks)];
    for (const cidr of cidrs.length > 0 ? cidrs : [null]) {
      model.ingress.push({ where, fromPort: port(rule, 'from_port', 0), toPort: port(rule, 'to_port', 65535), cidr, loadBalancer: loadBalancerGroups.has(String(groupId)) });
    }
  };
  for (const rule of ofType('aws_security_group_rule')) if (rule.values.type === 'ingress') addRules(rule.address, rule.values.security_group_id, rule.values);
  // Inline rules only where the module writes them: a group's `ingress` also lists the rules made apart.
  for (const group of ofType('aws_security_group')) {
    if ('ingress' in group.declared) blocks(group.values.ingress).forEach((rule, i) => addRules(`${group.address}.ingress[${i}]`, group.values.id, rule));
  }

  for (const permission of ofType('aws_lambda_permission')) {
    const sourceArn = permission.values.source_arn;
    model.invokePermissions.push({ where: permission.address, principal: String(permission.values.principal), sourceArn: typeof sourceArn === 'string' && sourceArn !== '' ? sourceArn : null });
  }

  for (const queue of ofType('aws_sqs_queue')) model.encryption.push({ where: queue.address, kind: 'queue', encrypted: queue.values.sqs_managed_sse_enabled === true || Boolean(queue.values.kms_master_key_id) });
  for (const topic of ofType('aws_sns_topic')) model.encryption.push({ where: topic.address, kind: 'topic', encrypted: Boolean(topic.values.kms_master_key_id) });
  for (const table of ofType('aws_dynamodb_table')) model.encryption.push({ where: table.address, kind: 'table', encrypted: block(table.values.server_side_encryption).enabled === true });
  for (const bucket of ofType('aws_s3_bucket')) {
    const of = (type: string) => ofType(type).filter(({ values }) => values.bucket !== undefined && values.bucket === bucket.values.bucket);
    model.encryption.push({ where: bucket.address, kind: 'bucket', encrypted: of('aws_s3_bucket_server_side_encryption_configuration').length > 0 });
    const access = of('aws_s3_bucket_public_access_block')[0]?.values ?? {};
    model.buckets.push({ where: bucket.address, publicAccessBlocked: ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].every((flag) => access[flag] === true) });
  }
  for (const template of ofType('aws_launch_template')) {
    model.instanceMetadata.push({ where: template.address, tokensRequired: block(template.values.metadata_options).http_tokens === 'required' });
    blocks(template.values.block_device_mappings).forEach((mapping, i) => {
      const encrypted = block(mapping.ebs).encrypted;
      model.encryption.push({ where: `${template.address}.block_device_mappings[${i}]`, kind: 'volume', encrypted: encrypted === true || encrypted === 'true' });
    });
  }
  for (const volume of ofType('aws_ebs_volume')) model.encryption.push({ where: volume.address, kind: 'volume', encrypted: volume.values.encrypted === true });
  // A standalone instance: its own metadata options and root volume. One launched from a template (the
  // NAT instance, whose image only a template resolves at launch) takes what it does not set itself
  // from the template, judged above: only what it sets is judged here.
  for (const instance of ofType('aws_instance')) {
    const fromTemplate = 'launch_template' in instance.declared;
    if (!fromTemplate || 'metadata_options' in instance.declared) {
      model.instanceMetadata.push({ where: instance.address, tokensRequired: block(instance.values.metadata_options).http_tokens === 'required' });
    }
    if (!fromTemplate || 'root_block_device' in instance.declared) {
      const encrypted = block(instance.values.root_block_device).encrypted;
      model.encryption.push({ where: `${instance.address}.root_block_device`, kind: 'volume', encrypted: encrypted === true || encrypted === 'true' });
    }
  }
  // A key a template or an instance names (known when the configuration sets it), or a key pair the module makes.
  for (const resource of [...ofType('aws_launch_template'), ...ofType('aws_instance')]) {
    if (typeof resource.values.key_name === 'string' && resource.values.key_name !== '') model.keyPairs.push({ where: resource.address, keyName: resource.values.key_name });
  }
  for (const pair of ofType('aws_key_pair')) model.keyPairs.push({ where: pair.address, keyName: text(pair.values.key_name ?? pair.values.key_name_prefix ?? 'named by AWS') });
  return model;
}
