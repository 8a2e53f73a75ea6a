// Deploy rehearsal: both Terraform modules applied to moto (the backend first, then the API key made
// by `npm run api-key -- create` outside Terraform, then the web tier fed from the backend's outputs, with a certificate requested from moto's ACM)
// with their default settings, read back through the AWS SDK, the key's value searched for in every
// state file, `terraform show -json` and every command's output (it is in none), the web tier applied
// again with another app_port and its small-shop setting (small-shop.tfvars: a NAT instance in place of
// the NAT gateways, one instance) over the running deployment, then the key deleted by the tool and both
// modules destroyed until nothing is left; then the backend's queues and mapping applied once more
// with queue_type = fifo, read back and destroyed.
// Between the web tier's apply and its second one, both modules as written (what moto cannot do put
// back) are planned against what was applied, and `terraform show -json` of those plans, with every
// ARN known, is what the security policy (test/iac/policy.ts) judges and what each function's
// variables and grants are checked against: the Terraform half of the policy and binding checks; the
// small-shop apply's own plan is judged too, its NAT instance among the facts.
// What moto cannot do is changed only in the rehearsal's own copies of the modules, by override files
// (REHEARSAL_OVERRIDES); the modules' interface has nothing for tests. The customers' parts (user pool,
// app client, Cognito authorizer, carts table, products table, account-orders index, the customer notifications queue,
// its subscription and mapping, the SES sender) are applied and read back like the rest. A second backend
// under another prefix is applied beside the first in a session of its own, its names compared with the
// first's, and destroyed; the account's API Gateway logging role is read before the first apply and
// after the destroys, and must not change. The tables and the user pool carry prevent_destroy: the
// rehearsal's copies lift it by override files, and a destroy plan of the module as written must refuse
// exactly those four. Bounded to 15 minutes; every
// terraform command has its own outer timeout inside that budget.
import { ACMClient, DescribeCertificateCommand, RequestCertificateCommand, waitUntilCertificateValidated } from '@aws-sdk/client-acm';
import { APIGatewayClient, GetAccountCommand, GetApiKeysCommand, GetAuthorizersCommand, GetMethodCommand, GetResourcesCommand, GetStageCommand, GetUsagePlanKeysCommand } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient, DescribeUserPoolClientCommand, DescribeUserPoolCommand, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { CloudWatchClient, DescribeAlarmsCommand, GetDashboardCommand, ListDashboardsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { countedBusinessMetrics, dashboardBusinessMetrics } from './business-metrics.js';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeRuleCommand, EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetEventSourceMappingCommand, GetFunctionConfigurationCommand, GetPolicyCommand, LambdaClient, ListEventSourceMappingsCommand, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetLoggingConfigurationCommand, GetWebACLForResourceCommand, ListWebACLsCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DescribeParametersCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cartTable } from '../../backend-lambdas/lib/cart-store.js';
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { appClientDefinition, userPoolDefinition } from '../../local/cognito.js';
import { cartTableDefinition, CUSTOMER_MAIL_FILTER, ORDER_EVENTS_EMAIL_FILTER, orderTableDefinition, productTableDefinition } from '../../local/resources.js';
import { apiRoutes, functionNames, functions, triggerOf, type FunctionName, type PermissionTarget, type ResourceRef } from '../../platform/functions.js';
import { settings } from '../../platform/settings.js';
import { gate } from '../helpers/requirements.js';
import { MOTO_CREDENTIALS, motoMissing, startMoto, type Moto } from './moto.js';
import { CONTROLS, controlsFound, findViolations, terraformModel } from './policy.js';
import { TERRAFORM_PERMISSION_TARGETS, TERRAFORM_REFS } from './resource-refs.js';
import {
  createTerraformSession,
  plannedResource,
  planVariable,
  removeTerraformSession,
  repoRoot,
  runCommand,
  succeeded,
  terraform,
  terraformInit,
  terraformUnavailableReason,
  type CommandResult,
  type ModuleName,
  type PlanDocument,
  type TerraformSession,
} from './terraform-cli.js';

// The second backend (its init, apply and destroy, beside the first's work) added to the 12 minutes.
const BUDGET_MS = 15 * 60_000;
const REGION = 'us-east-1';
const CREDENTIALS = MOTO_CREDENTIALS;
// One zip a declared function: npm run build writes exactly these.
const LAMBDA_ZIPS = functionNames.map((name) => join(repoRoot, 'dist', 'lambdas', `${name}.zip`));
const WEB_ARTIFACT = join(repoRoot, 'dist', 'web', 'order-web.tar.gz');

const deadline = Date.now() + BUDGET_MS;
/** What is left of the budget, capped for one command. */
const budget = (capMs: number) => Math.max(1_000, Math.min(capMs, deadline - Date.now()));

let session: TerraformSession | undefined;
let moto: Moto | undefined;
let endpoint = '';
let webArtifact = WEB_ARTIFACT;
const applied = new Set<ModuleName>();
let backend: BackendOutputs | undefined;
let frontend: FrontendOutputs | undefined;
/** The frontend variables of the last apply, for its destroy. */
let frontendApplied: Record<string, unknown> | undefined;
/** The var files given to the frontend's last apply beside its variables (the small-shop setting), for its destroy. */
let frontendVarFiles: string[] = [];
/** The small-shop setting as docs/deploy-terraform.md has an operator apply it: the module's own file, in its copy. */
const SMALL_SHOP = ['-var-file=small-shop.tfvars'];
/** The site's certificate, requested from moto's ACM as docs/deploy-terraform.md has an operator request it. */
let certificateArn: string | undefined;
/** The API key's value as the web tier reads it from SSM, once `npm run api-key -- create` has made it. */
let apiKey: string | undefined;
/** Whether the tool's key may still exist (for afterAll to delete it before destroying the backend). */
let apiKeyMade = false;
/** Everything terraform and the tool printed (the applies' plans among it), searched for the key. */
const printed: { what: string; text: string }[] = [];
/** Both modules as written, planned against what the rehearsal applied (planAsWritten). */
let asWritten: Record<ModuleName, PlanDocument> | undefined;

interface BackendOutputs {
  api_base_url: string;
  api_key_parameter_name: string;
  api_key_parameter_arn: string;
  api_key_name: string;
  usage_plan_id: string;
  queue_url: string;
  dead_letter_queue_url: string;
  table_name: string;
  ops_alarms_topic_arn: string;
  order_events_topic_arn: string;
  lambda_function_names: Record<FunctionName, string>;
  event_source_mapping_uuid: string;
  kitchen_schedule_rule_name: string;
  kitchen_error_alarm_name: string;
  alarm_names: Record<string, string>;
  dashboard_name: string;
  api_stage_arn: string;
  api_web_acl_arn: string | null;
  api_waf_log_group_name: string | null;
  api_access_log_group_name: string;
  carts_table_name: string;
  products_table_name: string;
  customer_notifications_queue_url: string;
  customer_notifications_dead_letter_queue_url: string;
  user_pool_id: string;
  user_pool_client_id: string;
  user_pool_issuer: string;
  customer_mail_identity_arn: string;
}

interface FrontendOutputs {
  site_url: string;
  event_queue_prefix: string;
  nat_gateway_public_ips: string[];
  /** Left out of `terraform output` while null (NAT gateways). */
  nat_instance_id?: string;
  nat_instance_public_ip?: string;
  /** Left out of `terraform output` while null (served over HTTPS). */
  insecure_http_warning?: string;
  alb_dns_name: string;
  autoscaling_group_name: string;
  artifact_bucket: string;
  artifact_object_key: string;
  launch_template_id: string;
  vpc_id: string;
  private_subnet_ids: string[];
  availability_zones: string[];
  web_acl_arn: string | null;
  instance_log_group_name: string;
  waf_log_group_name: string | null;
  access_log_bucket: string;
  alarm_names: Record<string, string>;
}

const clientConfig = () => ({ endpoint, region: REGION, credentials: CREDENTIALS });

/** Every service either module calls, at moto. */
const SERVICES = ['apigateway', 'autoscaling', 'cloudwatch', 'cognitoidp', 'dynamodb', 'ec2', 'elbv2', 'events', 'iam', 'kms', 'lambda', 'logs', 's3', 'sesv2', 'sns', 'sqs', 'ssm', 'sts', 'wafv2'];

/**
 * The override files written into the rehearsal's copy of each module (Terraform merges *_override.tf
 * over the module's own files). Each says why; each is checked by a test elsewhere that the real
 * module keeps what it drops (named in its comment).
 */
function rehearsalOverrides(): Record<ModuleName, Record<string, string>> {
  // Endpoints only: not skip_requesting_account_id (moto's STS answers; with it, security group
  // rules drift to 123456789012/sg-...). S3 at moto is reached by path, not by virtual host.
  const provider = [
    'provider "aws" {',
    '  s3_use_path_style       = true',
    '  skip_metadata_api_check = true',
    '  endpoints {',
    ...SERVICES.map((service) => `    ${service} = ${JSON.stringify(endpoint)}`),
    '  }',
    '}',
    '',
  ].join('\n');
  return {
    'terraform-backend': {
      'providers_override.tf': provider,
      // The rehearsal destroys what the module keeps on purpose. The real module keeps it: the backend's
      // destroy plan as written fails on exactly these (the two-backends run below).
      ...keptDataOverrides(),
      // moto never returns the queue's RedriveAllowPolicy attribute, and the provider waits 20 minutes
      // for it. The real module keeps it: backend.tftest.hcl run "queues_redrive_to_an_encrypted_dlq".
      'queues_override.tf': ['resource "aws_sqs_queue_redrive_allow_policy" "orders_dlq" {', '  count = 0', '}', ''].join('\n'),
      // The same moto gap for the customer notifications' DLQ. The real module keeps it: backend.tftest.hcl
      // run "customer_mail_reaches_notify_customer_from_order_events".
      'customer-notifications_override.tf': ['resource "aws_sqs_queue_redrive_allow_policy" "customer_notifications_dlq" {', '  count = 0', '}', ''].join('\n'),
    },
    'terraform-frontend': {
      'providers_override.tf': provider,
      // moto is reached over plain HTTP, and it enforces the buckets' TLS-only Deny (aws:SecureTransport
      // is false): the artifact's upload is refused. The real module keeps both policies:
      // frontend.tftest.hcl run "access_logs_are_encrypted_private_and_expire".
      'artifact_override.tf': ['resource "aws_s3_bucket_policy" "artifacts" {', '  count = 0', '}', ''].join('\n'),
      'access-logs_override.tf': ['resource "aws_s3_bucket_policy" "access_logs" {', '  count = 0', '}', ''].join('\n'),
      // moto does not implement StartInstanceRefresh: an update with the block hangs for more than 25
      // minutes. The real module keeps it: frontend.tftest.hcl run "the_group_rolls_on_a_new_launch_template".
      'instances_override.tf': [
        'resource "aws_autoscaling_group" "web" {',
        '  dynamic "instance_refresh" {',
        '    for_each = []',
        '    content {',
        '      strategy = "Rolling"',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    },
  };
}

// What the security policy must catch, planted into the module copies for one plan each (and removed):
// a grant of everything, SSH open to the world and an instance (as the NAT instance is one) with a key
// pair, optional IMDS tokens and an unencrypted disk in the web tier; a Query on every index of the
// orders table, a schedule permission any rule may use, and a log group, a queue and an alarm that
// each fail a Control Tower control in the backend.
const PLANTED_FRONTEND = `
resource "aws_iam_role_policy" "planted_admin" {
  role   = "x"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
resource "aws_vpc_security_group_ingress_rule" "planted_ssh" {
  security_group_id = "sg-123"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_instance" "planted_open" {
  ami           = "ami-12345678"
  instance_type = "t4g.nano"
  key_name      = "planted"
  metadata_options {
    http_tokens = "optional"
  }
  root_block_device {
    encrypted = false
  }
}
`;

const PLANTED_BACKEND = `
resource "aws_iam_role_policy" "planted_every_index" {
  role   = "x"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "dynamodb:Query", Resource = "\${aws_dynamodb_table.orders.arn}/index/*" }] })
}
resource "aws_lambda_permission" "planted_any_rule" {
  action        = "lambda:InvokeFunction"
  function_name = "advance-orders"
  principal     = "events.amazonaws.com"
}
`;

const PLANTED_CONTROLS = `
resource "aws_cloudwatch_log_group" "planted_forever" {
  name = "forever"
}
resource "aws_sqs_queue" "planted_no_dlq" {
  name                    = "no-dlq"
  sqs_managed_sse_enabled = true
}
resource "aws_cloudwatch_metric_alarm" "planted_silent" {
  alarm_name          = "silent"
  namespace           = "AWS/SQS"
  metric_name         = "NumberOfMessagesSent"
  statistic           = "Sum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 1
  period              = 60
  evaluation_periods  = 1
}
`;

/** The execute-api ARN API Gateway invokes a route's function with: this API, any stage, the method and path (a {parameter} is any segment). */
function routeSourceArn(executionArn: string, route: string): string {
  const [method, path] = route.split(' ') as [string, string];
  return `${executionArn}/*/${method}/${path
    .slice(1)
    .split('/')
    .map((segment) => (segment.startsWith('{') ? '*' : segment))
    .join('/')}`;
}

/** The web tier's load balancer (named order-web with no name prefix). */
async function loadBalancerArn(elbv2: ElasticLoadBalancingV2Client): Promise<string> {
  const { LoadBalancers = [] } = await elbv2.send(new DescribeLoadBalancersCommand({ Names: ['order-web'] }));
  return LoadBalancers[0]!.LoadBalancerArn!;
}

/** Every state file terraform wrote in the session (state and its backups), with its text. */
async function stateFiles(): Promise<{ file: string; text: string }[]> {
  const files: { file: string; text: string }[] = [];
  for (const entry of await readdir(session!.root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.tfstate(\.|$)/.test(entry.name)) {
      const file = join(entry.parentPath, entry.name);
      files.push({ file, text: await readFile(file, 'utf8') });
    }
  }
  return files;
}


/** dist/ as npm run build leaves it; built here when a piece is missing. */
async function ensureBuilt(): Promise<void> {
  if ([...LAMBDA_ZIPS, WEB_ARTIFACT].every((file) => existsSync(file))) return;
  succeeded(await runCommand('npm', ['run', 'build'], { cwd: repoRoot, env: process.env, timeoutMs: budget(300_000) }));
}

/** Only what a throwaway deployment needs: everything else is the modules' defaults. */
function backendVariables(): Record<string, unknown> {
  return {
    aws_region: REGION,
    alarm_email: 'ops@example.com',
    // Set so that the rehearsal reads the subscription's filter policy back.
    order_events_email: 'orders@example.com',
    lambda_package_dir: join(repoRoot, 'dist', 'lambdas'),
    table_deletion_protection: false,
    kms_key_deletion_window_days: 7,
    customer_mail_from: 'orders@shop.example',
    user_pool_deletion_protection: false,
  };
}

function frontendVariables(outputs: BackendOutputs, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aws_region: REGION,
    api_base_url: outputs.api_base_url,
    api_key_parameter_name: outputs.api_key_parameter_name,
    ops_alarms_topic_arn: outputs.ops_alarms_topic_arn,
    cognito_user_pool_id: outputs.user_pool_id,
    cognito_client_id: outputs.user_pool_client_id,
    cognito_issuer: outputs.user_pool_issuer,
    order_events_topic_arn: outputs.order_events_topic_arn,
    web_artifact_path: webArtifact,
    artifact_bucket_force_destroy: true,
    access_log_bucket_force_destroy: true,
    certificate_arn: certificateArn,
    ...overrides,
  };
}

/** Writes the variables next to the module copy and returns the -var-file argument. */
async function varFile(module: ModuleName, variables: Record<string, unknown>): Promise<string> {
  const file = join(session!.root, `${module}.rehearsal.tfvars.json`);
  await writeFile(file, JSON.stringify(variables, null, 2));
  return `-var-file=${file}`;
}

function awsEnv(): NodeJS.ProcessEnv {
  return { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey, AWS_REGION: REGION };
}

/** The output of a command, kept for the search for the key. */
function keep(what: string, result: CommandResult): CommandResult {
  printed.push({ what, text: `${result.stdout}\n${result.stderr}` });
  return result;
}

/** The backend variables of the last apply, for its destroy. */
let backendApplied: Record<string, unknown> | undefined;

async function apply(module: ModuleName, variables: Record<string, unknown>, extraArgs: string[] = []): Promise<void> {
  const vars = await varFile(module, variables);
  applied.add(module);
  if (module === 'terraform-backend') backendApplied = variables;
  if (module === 'terraform-frontend') frontendVarFiles = extraArgs.filter((arg) => arg.startsWith('-var-file='));
  // The apply prints its plan: kept, so the plan is searched for the key too.
  keep(`${module} apply`, succeeded(await terraform(session!, module, ['apply', '-auto-approve', '-input=false', vars, ...extraArgs], { timeoutMs: budget(240_000), env: awsEnv() })));
}

/**
 * An apply through a saved plan, and that plan's `terraform show -json`: what the apply did, as
 * Terraform evaluated it (the rehearsal's overrides in place), at the cost of one show.
 */
async function applyWithPlan(module: ModuleName, variables: Record<string, unknown>, extraArgs: string[] = []): Promise<PlanDocument> {
  const vars = await varFile(module, variables);
  applied.add(module);
  if (module === 'terraform-frontend') frontendVarFiles = extraArgs.filter((arg) => arg.startsWith('-var-file='));
  const options = { timeoutMs: budget(240_000), env: awsEnv() };
  keep(`${module} plan`, succeeded(await terraform(session!, module, ['plan', '-input=false', '-out=apply.tfplan', vars, ...extraArgs], options)));
  const shown = keep(`${module} show -json apply.tfplan`, succeeded(await terraform(session!, module, ['show', '-json', 'apply.tfplan'], options)));
  keep(`${module} apply`, succeeded(await terraform(session!, module, ['apply', '-auto-approve', '-input=false', 'apply.tfplan'], options)));
  return JSON.parse(shown.stdout) as PlanDocument;
}

/** Reads every resource of the module back into its state (a refresh-only apply), as any later plan or apply would. */
async function refreshOnly(module: ModuleName, variables: Record<string, unknown>): Promise<void> {
  const vars = await varFile(module, variables);
  keep(`${module} apply -refresh-only`, succeeded(await terraform(session!, module, ['apply', '-refresh-only', '-auto-approve', '-input=false', vars], { timeoutMs: budget(240_000), env: awsEnv() })));
}

/**
 * Terraform's own evaluation of a module as written, against what the rehearsal applied: the override
 * files that drop what moto cannot do are set aside (the provider's endpoints stay), `plan
 * -refresh=false` plans over the state as it is (every ARN and id known from it, and what the
 * overrides dropped planned with known values), and `terraform show -json` reads the plan back.
 * `planted` files are in the module for this plan only. Nothing is applied.
 */
async function planAsWritten(module: ModuleName, variables: Record<string, unknown>, planted: Record<string, string> = {}): Promise<{ plan: PlanDocument; took: string }> {
  const dir = session!.workspaces.get(module)!.dir;
  const setAside = Object.keys(rehearsalOverrides()[module]).filter((file) => file !== 'providers_override.tf');
  const vars = await varFile(module, variables);
  for (const file of setAside) await rename(join(dir, file), join(dir, `${file}.set-aside`));
  for (const [file, text] of Object.entries(planted)) await writeFile(join(dir, file), text);
  try {
    const options = { timeoutMs: budget(120_000), env: awsEnv() };
    const planned = keep(`${module} plan as written`, succeeded(await terraform(session!, module, ['plan', '-refresh=false', '-input=false', '-out=as-written.tfplan', vars], options)));
    const shown = keep(`${module} show -json as-written.tfplan`, succeeded(await terraform(session!, module, ['show', '-json', 'as-written.tfplan'], options)));
    const seconds = (result: CommandResult) => (result.durationMs / 1000).toFixed(1);
    return { plan: JSON.parse(shown.stdout) as PlanDocument, took: `${module}: plan ${seconds(planned)} s, show -json ${seconds(shown)} s` };
  } finally {
    // Whatever happened, the module is left as the later applies and destroys expect it.
    for (const file of Object.keys(planted)) await rm(join(dir, file), { force: true });
    for (const file of setAside) await rename(join(dir, `${file}.set-aside`), join(dir, file));
    await rm(join(dir, 'as-written.tfplan'), { force: true });
  }
}

/** Both modules as written, planned side by side (the web tier holds only strings from the backend), each with its planted files. */
async function planBothAsWritten(planted: Partial<Record<ModuleName, Record<string, string>>> = {}): Promise<Record<ModuleName, PlanDocument>> {
  const started = Date.now();
  const [backendPlan, frontendPlan] = await Promise.all([
    planAsWritten('terraform-backend', backendVariables(), planted['terraform-backend']),
    planAsWritten('terraform-frontend', frontendApplied!, planted['terraform-frontend']),
  ]);
  const what = Object.keys(planted).length > 0 ? 'with planted files' : 'as written';
  console.log(`Both modules planned ${what} against the applied state in ${((Date.now() - started) / 1000).toFixed(1)} s, side by side (${backendPlan.took}; ${frontendPlan.took})`);
  return { 'terraform-backend': backendPlan.plan, 'terraform-frontend': frontendPlan.plan };
}

/** `npm run api-key -- <args>` against moto, as an operator runs it (credentials from the environment). */
async function apiKeyTool(...args: string[]): Promise<CommandResult> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...awsEnv(), AWS_EC2_METADATA_DISABLED: 'true' };
  const result = await runCommand('npm', ['run', '-s', 'api-key', '--', ...args, '--region', REGION, '--endpoint', endpoint], { cwd: repoRoot, env, timeoutMs: budget(60_000) });
  return keep(`npm run api-key -- ${args.join(' ')}`, succeeded(result));
}

/** Where the key's value occurs: every state file of the session, `terraform show -json` of both modules, and everything printed. */
async function keyOccurrences(key: string, { show }: { show: boolean }): Promise<{ places: number; found: { where: string; times: number }[] }> {
  const places = [
    ...(await stateFiles()).map(({ file, text }) => ({ where: file.slice(session!.root.length + 1), text })),
    ...printed.map(({ what, text }) => ({ where: `output of ${what}`, text })),
  ];
  if (show) {
    for (const module of ['terraform-backend', 'terraform-frontend'] as const) {
      const result = succeeded(await terraform(session!, module, ['show', '-json'], { timeoutMs: budget(60_000), env: awsEnv() }));
      places.push({ where: `${module} show -json`, text: result.stdout });
    }
  }
  const found = places.map(({ where, text }) => ({ where, times: text.split(key).length - 1 })).filter(({ times }) => times > 0);
  return { places: places.length, found };
}

async function destroy(module: ModuleName, variables: Record<string, unknown>): Promise<void> {
  const vars = await varFile(module, variables);
  const varFiles = module === 'terraform-frontend' ? frontendVarFiles : [];
  // The state is the one this run applied: reading every resource back first would only cost time.
  succeeded(await terraform(session!, module, ['destroy', '-auto-approve', '-input=false', '-refresh=false', vars, ...varFiles], { timeoutMs: budget(180_000), env: awsEnv() }));
  applied.delete(module);
}

/** The site's certificate as docs/deploy-terraform.md gets one: requested with DNS validation, its CNAME given, then waited for. */
async function requestCertificate(): Promise<string> {
  const acm = new ACMClient(clientConfig());
  const { CertificateArn } = await acm.send(new RequestCertificateCommand({ DomainName: 'shop.example.com', ValidationMethod: 'DNS' }));
  const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn }));
  // The record an operator adds to the domain's zone (moto validates without it).
  expect(Certificate?.DomainValidationOptions?.[0]?.ResourceRecord?.Type).toBe('CNAME');
  await waitUntilCertificateValidated({ client: acm, maxWaitTime: 30, minDelay: 1, maxDelay: 2 }, { CertificateArn });
  return CertificateArn!;
}

/** A plan of the web tier against what was applied, without touching it (no refresh, no lock); its show -json, or the failed plan's output. */
async function planFrontend(variables: Record<string, unknown>): Promise<{ planned: CommandResult; plan?: PlanDocument }> {
  const options = { timeoutMs: budget(120_000), env: awsEnv() };
  const planned = keep('terraform-frontend plan (HTTPS checks)', await terraform(session!, 'terraform-frontend', ['plan', '-refresh=false', '-lock=false', '-input=false', '-out=https-check.tfplan', await varFile('terraform-frontend', variables)], options));
  if (planned.code !== 0) return { planned };
  const shown = keep('terraform-frontend show -json https-check.tfplan', succeeded(await terraform(session!, 'terraform-frontend', ['show', '-json', 'https-check.tfplan'], options)));
  return { planned, plan: JSON.parse(shown.stdout) as PlanDocument };
}

async function outputsOf<T>(module: ModuleName): Promise<T> {
  const result = keep(`${module} output -json`, succeeded(await terraform(session!, module, ['output', '-json'], { timeoutMs: budget(60_000), env: awsEnv() })));
  const raw = JSON.parse(result.stdout) as Record<string, { value: unknown }>;
  return Object.fromEntries(Object.entries(raw).map(([name, output]) => [name, output.value])) as T;
}

async function stateResourceCount(module: ModuleName): Promise<number> {
  const result = succeeded(await terraform(session!, module, ['state', 'list'], { timeoutMs: budget(60_000), env: awsEnv() }));
  return result.stdout.split('\n').filter(Boolean).length;
}

// ---------------------------------------------------------------- two backends in one account, and the data each keeps

/**
 * Lifts the prevent_destroy the module puts on the orders, carts and products tables and the user pool, in the
 * rehearsal's copies only. Terraform merges an override's lifecycle block argument by argument, so
 * nothing else of theirs changes; planAsWritten sets these aside with the other overrides.
 */
function keptDataOverrides(): Record<string, string> {
  const lifted = (type: string, name: string) => [`resource "${type}" "${name}" {`, '  lifecycle {', '    prevent_destroy = false', '  }', '}', ''].join('\n');
  return {
    'table_override.tf': lifted('aws_dynamodb_table', 'orders'),
    'carts_override.tf': lifted('aws_dynamodb_table', 'carts'),
    'products_override.tf': lifted('aws_dynamodb_table', 'products'),
    'accounts_override.tf': lifted('aws_cognito_user_pool', 'customers'),
  };
}

/** The addresses Terraform refuses to destroy, read from its "Instance cannot be destroyed" errors. */
function refusedToDestroy(result: CommandResult): string[] {
  const text = `${result.stdout}\n${result.stderr}`.replace(/[│╷╵]/g, ' ').replace(/\s+/g, ' ');
  return [...new Set([...text.matchAll(/Resource (\S+) has lifecycle\.prevent_destroy set/g)].map((match) => match[1]!))].sort();
}

/** A destroy of the backend as written (its kept-data overrides set aside) against what was applied, planned only. */
async function destroyPlanAsWritten(): Promise<CommandResult> {
  const dir = session!.workspaces.get('terraform-backend')!.dir;
  const setAside = Object.keys(keptDataOverrides());
  const vars = await varFile('terraform-backend', backendApplied ?? backendVariables());
  for (const file of setAside) await rename(join(dir, file), join(dir, `${file}.set-aside`));
  try {
    return keep('terraform-backend plan -destroy as written', await terraform(session!, 'terraform-backend', ['plan', '-destroy', '-refresh=false', '-input=false', vars], { timeoutMs: budget(120_000), env: awsEnv() }));
  } finally {
    for (const file of setAside) await rename(join(dir, `${file}.set-aside`), join(dir, file));
  }
}

/** The account's API Gateway CloudWatch Logs role in the region (null when none is set): a setting no stack should change by default. */
async function accountLoggingRole(): Promise<string | null> {
  const account = await new APIGatewayClient(clientConfig()).send(new GetAccountCommand({}));
  return account.cloudwatchRoleArn ?? null;
}

/** What the account held before anything was applied. */
let accountLoggingRoleBefore: string | null | undefined;

/** A second deployment of the backend, another prefix and sender, in a session (a module copy and state) of its own. */
const SECOND_PREFIX = 'second-';
let second: TerraformSession | undefined;
let secondApplied = false;
// Applied beside the first backend's apply and destroyed beside the web tier's tests: Terraform waits on
// moto, not the CPU, and the rehearsal's time is the IaC lane's.
let secondApplying: Promise<void> | undefined;
let secondGone: Promise<void> | undefined;

function secondBackendVariables(): Record<string, unknown> {
  // SES knows an address once per account and region: a second stack there needs its own sender.
  return { ...backendVariables(), name_prefix: SECOND_PREFIX, customer_mail_from: 'orders@second.example' };
}

async function secondBackend(args: string[], what: string): Promise<CommandResult> {
  const file = join(second!.root, 'second.rehearsal.tfvars.json');
  await writeFile(file, JSON.stringify(secondBackendVariables(), null, 2));
  // The file right after the command: `import` takes its options before the address and id.
  const [command = '', ...rest] = args;
  return keep(`second backend ${what}`, succeeded(await terraform(second!, 'terraform-backend', [command, `-var-file=${file}`, ...rest], { timeoutMs: budget(240_000), env: awsEnv() })));
}

async function applySecondBackend(): Promise<void> {
  second = await createTerraformSession(['terraform-backend']);
  const dir = second.workspaces.get('terraform-backend')!.dir;
  for (const [name, text] of Object.entries(rehearsalOverrides()['terraform-backend'])) await writeFile(join(dir, name), text);
  succeeded(await terraformInit(second, 'terraform-backend', budget(120_000)));
  secondApplied = true;
  try {
    await secondBackend(['apply', '-auto-approve', '-input=false'], 'apply');
  } catch (error) {
    // Seen in CI, with moto slow under both lanes' load: CreateTable answered "already exists" for the
    // table its timed-out first try had made (the SDK's retry), which the state never got. Such a table
    // is taken into the state as it is, and the apply runs once more; any other failure stands.
    const made = [...String(error).matchAll(/creating AWS DynamoDB Table \(([\w.-]+)\)[^\n]*ResourceInUseException[\s\S]*?with (aws_dynamodb_table\.\w+),/g)];
    if (made.length === 0) throw error;
    console.warn(`second backend's apply failed on a table its own retry had made; importing ${made.map(([, table]) => table).join(', ')} and applying again`);
    for (const [, table, address] of made) await secondBackend(['import', '-input=false', address!, table!], `import ${address!}`);
    await secondBackend(['apply', '-auto-approve', '-input=false'], 'apply again');
  }
}

async function destroySecondBackend(): Promise<void> {
  if (secondApplied) {
    try {
      await secondBackend(['destroy', '-auto-approve', '-input=false', '-refresh=false'], 'destroy');
    } catch (error) {
      // Seen once in CI, with moto slow under both lanes' load: DeleteTable answered ResourceNotFound for
      // a table moto had just deleted (the SDK's retry of a timed-out call). Once more with a refresh,
      // which drops what is already gone; anything still there fails the next test's no-leftovers check.
      console.warn(`second backend's destroy failed once, destroying again with a refresh: ${String(error).split('\n').find((line) => line.includes('Error:')) ?? String(error).split('\n')[0]}`);
      await secondBackend(['destroy', '-auto-approve', '-input=false'], 'destroy again');
    }
  }
  secondApplied = false;
  await removeTerraformSession(second);
  second = undefined;
}

// Names given inside another resource of the same stack (a role's inline policy, a pool's app client or group, a
// statement on a function, a mapping to it): two stacks may share them.
const NAMED_WITHIN = new Set(['aws_iam_role_policy', 'aws_cognito_user_pool_client', 'aws_cognito_user_group', 'aws_lambda_permission', 'aws_lambda_event_source_mapping']);
const NAME_ATTRIBUTES = ['name', 'function_name', 'alarm_name', 'dashboard_name', 'email_identity'];

/** Every name a deployment's state gives a resource in the account or region, with the resource that holds it. */
async function namesInState(where: TerraformSession): Promise<Map<string, string>> {
  const shown = succeeded(await terraform(where, 'terraform-backend', ['show', '-json'], { timeoutMs: budget(60_000), env: awsEnv() }));
  const resources = (JSON.parse(shown.stdout) as { values?: { root_module?: { resources?: { address: string; type: string; values: Record<string, unknown> }[] } } }).values?.root_module?.resources ?? [];
  const names = new Map<string, string>();
  for (const resource of resources.filter(({ type }) => !NAMED_WITHIN.has(type))) {
    for (const attribute of NAME_ATTRIBUTES) if (typeof resource.values[attribute] === 'string') names.set(resource.values[attribute], resource.address);
  }
  return names;
}

/** Why the rehearsal cannot run here: no terraform, no provider mirror or no moto_server. */
const missing = terraformUnavailableReason() ?? motoMissing();

gate('the moto rehearsal', missing).describe('the Terraform modules, rehearsed on moto', () => {
  beforeAll(async () => {
    await ensureBuilt();
    if (!existsSync(WEB_ARTIFACT)) {
      // The rehearsal never runs the web tier; any file stands in for its build.
      webArtifact = join(await mkdtemp(join(tmpdir(), 'orders-web-artifact-')), 'order-web.tar.gz');
      await writeFile(webArtifact, 'placeholder');
      console.warn(`npm run build wrote no ${WEB_ARTIFACT}; the rehearsal uploads a placeholder instead`);
    }
    session = await createTerraformSession(['terraform-backend', 'terraform-frontend']);
    const ready = session;
    // AWS managed policies (AmazonAPIGatewayPushToCloudWatchLogs) exist only when moto loads them.
    // MOTO_ACM_VALIDATION_WAIT: moto's ACM marks a requested certificate validated this many seconds after the request (default 60).
    moto = await startMoto({ env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true', MOTO_ACM_VALIDATION_WAIT: '0' } });
    endpoint = moto.endpoint;
    accountLoggingRoleBefore = await accountLoggingRole();
    for (const [module, files] of Object.entries(rehearsalOverrides()) as [ModuleName, Record<string, string>][]) {
      for (const [name, text] of Object.entries(files)) await writeFile(join(ready.workspaces.get(module)!.dir, name), text);
    }
    await Promise.all((['terraform-backend', 'terraform-frontend'] as const).map(async (module) => succeeded(await terraformInit(ready, module, budget(120_000)))));
  }, 360_000);

  afterAll(async () => {
    // A failed run still releases what it made, within what is left of the budget.
    try {
      if (session && apiKeyMade) await apiKeyTool('delete', '--yes').catch(() => undefined);
      // A second apply or destroy still under way holds the state's lock: wait for it first.
      await secondApplying?.catch(() => undefined);
      await secondGone?.catch(() => undefined);
      if (second) await destroySecondBackend().catch(() => undefined);
      if (session && applied.has('terraform-frontend') && frontendApplied) await destroy('terraform-frontend', frontendApplied).catch(() => undefined);
      if (session && applied.has('terraform-backend')) await destroy('terraform-backend', backendApplied ?? backendVariables()).catch(() => undefined);
    } finally {
      moto?.stop();
      await removeTerraformSession(session);
      await removeTerraformSession(second);
      if (webArtifact !== WEB_ARTIFACT) await rm(join(webArtifact, '..'), { recursive: true, force: true });
    }
  }, 400_000);

  it('when the backend is applied and npm run api-key -- create run, then the queue redrives to the DLQ, process-order reports batch item failures, the DLQ alarm notifies ops, and the key is in the usage plan and a SecureString but in no state', async () => {
    secondApplying = applySecondBackend();
    secondApplying.catch(() => undefined);
    await apply('terraform-backend', backendVariables());
    backend = await outputsOf<BackendOutputs>('terraform-backend');

    const sqs = new SQSClient(clientConfig());
    const { Attributes: queue = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: backend.queue_url, AttributeNames: ['All'] }));
    const { Attributes: dlq = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: backend.dead_letter_queue_url, AttributeNames: ['All'] }));
    const redrive = JSON.parse(queue.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
    expect({ target: redrive.deadLetterTargetArn, maxReceiveCount: Number(redrive.maxReceiveCount) }).toEqual({ target: dlq.QueueArn, maxReceiveCount: 5 });
    expect(queue.VisibilityTimeout).toBe('180');
    expect(dlq.MessageRetentionPeriod).toBe('1209600');

    const lambda = new LambdaClient(clientConfig());
    const mapping = await lambda.send(new GetEventSourceMappingCommand({ UUID: backend.event_source_mapping_uuid }));
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.EventSourceArn).toBe(queue.QueueArn);
    expect(mapping.BatchSize).toBe(10);
    const processOrder = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: backend.lambda_function_names['process-order'] }));
    expect(mapping.FunctionArn).toBe(processOrder.FunctionArn);
    expect({ runtime: processOrder.Runtime, architectures: processOrder.Architectures, timeout: processOrder.Timeout }).toEqual({ runtime: 'nodejs22.x', architectures: ['arm64'], timeout: 30 });
    expect(processOrder.Environment?.Variables).toMatchObject({ TABLE_NAME: backend.table_name, ORDER_EVENTS_TOPIC_ARN: backend.order_events_topic_arn });

    const cloudwatch = new CloudWatchClient(clientConfig());
    const { MetricAlarms = [] } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-dlq-not-empty'] }));
    expect(MetricAlarms).toHaveLength(1);
    expect(MetricAlarms[0]).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: 'orders-dlq' }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [backend.ops_alarms_topic_arn],
      OKActions: [backend.ops_alarms_topic_arn],
    });

    // The key, made outside Terraform by the operator's tool, which finds the usage plan by its name.
    apiKeyMade = true;
    const created = await apiKeyTool('create');
    expect(created.stdout).toMatch(new RegExp(`^Created API key \\w+ \\(${backend.api_key_name}\\), added it to usage plan ${backend.usage_plan_id} and wrote its value to ${backend.api_key_parameter_name} \\(SecureString, aws/ssm\\)\\.\\n$`));
    const ssm = new SSMClient(clientConfig());
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: backend.api_key_parameter_name, WithDecryption: true }));
    expect(Parameter?.Type).toBe('SecureString');
    expect(backend.api_key_parameter_arn).toBe(Parameter?.ARN);
    // The value as the web tier reads it. moto decrypts with WithDecryption; without it, it answers
    // kms:alias/aws/ssm:<value> (NOTES.md), so a prefix of that kind is taken off, never searched for.
    apiKey = (Parameter?.Value ?? '').replace(/^kms:alias\/aws\/ssm:/, '');
    expect(apiKey).toMatch(/^[A-Za-z0-9]{40}$/);
    const apiGateway = new APIGatewayClient(clientConfig());
    const { items: keys = [] } = await apiGateway.send(new GetApiKeysCommand({ nameQuery: backend.api_key_name, includeValues: true }));
    const { items: planKeys = [] } = await apiGateway.send(new GetUsagePlanKeysCommand({ usagePlanId: backend.usage_plan_id }));
    expect(keys.map((key) => ({ name: key.name, enabled: key.enabled, holds: key.value === apiKey }))).toEqual([{ name: backend.api_key_name, enabled: true, holds: true }]);
    expect(planKeys.map((key) => key.id)).toEqual([keys[0]!.id]);

    // Terraform manages neither the key, nor its place in the plan, nor the parameter; and the
    // override left out what moto cannot do, and nothing else of the queues.
    const backendState = succeeded(await terraform(session!, 'terraform-backend', ['state', 'list'], { timeoutMs: budget(60_000), env: awsEnv() })).stdout;
    expect(backendState).not.toMatch(/^(aws_api_gateway_api_key|aws_api_gateway_usage_plan_key|aws_ssm_parameter)\./m);
    expect(backendState).toMatch(/^aws_api_gateway_usage_plan\.web$/m);
    expect(backendState).not.toContain('aws_sqs_queue_redrive_allow_policy');
    expect(backendState).toMatch(/^aws_sqs_queue\.orders_dlq$/m);
    expect(backendState).toMatch(/^aws_sqs_queue\.customer_notifications_dlq$/m);
    const states = await stateFiles();
    expect(states.some(({ text }) => text.includes(backend!.usage_plan_id))).toBe(true);
    const { places, found } = await keyOccurrences(apiKey, { show: false });
    console.log(`API key value after the backend apply and npm run api-key -- create: ${found.length} places hold it, of ${places} searched (${states.length} state files and the commands' output)`);
    expect(found).toEqual([]);
  }, 300_000);

  // Must show 3: two stacks in one account; and the data each keeps on purpose.
  it('when a second backend with another prefix is applied beside the first, then no name of either is the other\'s, every name of the second carries its prefix, the IAM roles carry the region, the account\'s API Gateway logging role is untouched, and the first as written refuses to destroy its tables and user pool', async () => {
    expect(backend).toBeDefined();
    const [destroyAsWritten] = await Promise.all([destroyPlanAsWritten(), secondApplying]);
    expect(destroyAsWritten.code).not.toBe(0);
    expect(refusedToDestroy(destroyAsWritten)).toEqual(['aws_cognito_user_pool.customers', 'aws_dynamodb_table.carts', 'aws_dynamodb_table.orders', 'aws_dynamodb_table.products']);

    const [first, other] = await Promise.all([namesInState(session!), namesInState(second!)]);
    expect([...other.keys()].filter((name) => first.has(name)).map((name) => `${name} (${first.get(name)!} and ${other.get(name)!})`)).toEqual([]);
    // API Gateway names the execution log group by the API's id; the sender is the address itself.
    const unprefixed = [...other].filter(([name, address]) => !name.includes(SECOND_PREFIX) && !name.startsWith('API-Gateway-Execution-Logs_') && address !== 'aws_sesv2_email_identity.customer_mail_from');
    expect(unprefixed).toEqual([]);
    const roles = (names: Map<string, string>) => [...names].filter(([, address]) => address.startsWith('aws_iam_role.')).map(([name]) => name).sort();
    expect(roles(first)).toEqual(functionNames.map((name) => `${name}-${REGION}`).sort());
    expect(roles(other)).toEqual(functionNames.map((name) => `${SECOND_PREFIX}${name}-${REGION}`).sort());
    expect(await accountLoggingRole()).toBe(accountLoggingRoleBefore);
    console.log(`Two backends side by side: ${first.size} and ${other.size} names, none shared; the account's API Gateway logging role is still ${String(accountLoggingRoleBefore)}`);

    // Awaited before anything checks what is left; the account's setting is checked again after every destroy.
    secondGone = destroySecondBackend();
    secondGone.catch(() => undefined);
  }, 400_000);

  it('when the backend is applied with its defaults, then every function is traced with its metrics namespace and has error and throttle alarms, and the stage logs, traces and sits behind WAF', async () => {
    expect(backend).toBeDefined();
    const lambda = new LambdaClient(clientConfig());
    for (const name of functionNames) {
      const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: backend!.lambda_function_names[name] }));
      expect({ name, tracing: configuration.TracingConfig?.Mode, namespace: configuration.Environment?.Variables?.POWERTOOLS_METRICS_NAMESPACE, service: configuration.Environment?.Variables?.POWERTOOLS_SERVICE_NAME }).toEqual({
        name,
        tracing: 'Active',
        namespace: 'OrderPipeline',
        service: name,
      });
    }
    const processOrder = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: backend!.lambda_function_names['process-order'] }));
    expect(processOrder.Environment?.Variables?.MAX_RECEIVE_COUNT).toBe(String(settings.queue.maxReceiveCount));

    // One error and one throttle alarm a declared function, each on its own function, all to ops-alarms.
    const cloudwatch = new CloudWatchClient(clientConfig());
    const { MetricAlarms = [] } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: Object.values(backend!.alarm_names) }));
    expect(MetricAlarms.map((alarm) => alarm.AlarmName).sort()).toEqual(Object.values(backend!.alarm_names).sort());
    for (const name of functionNames) {
      for (const metric of ['Errors', 'Throttles']) {
        const alarm = MetricAlarms.find((candidate) => candidate.MetricName === metric && candidate.Dimensions?.[0]?.Value === backend!.lambda_function_names[name]);
        expect({ name, metric, alarm: alarm && { threshold: alarm.Threshold, actions: alarm.AlarmActions, ok: alarm.OKActions } }).toEqual({
          name,
          metric,
          alarm: { threshold: 1, actions: [backend!.ops_alarms_topic_arn], ok: [backend!.ops_alarms_topic_arn] },
        });
      }
    }
    expect(MetricAlarms.find((alarm) => alarm.MetricName === '5XXError')).toMatchObject({ Namespace: 'AWS/ApiGateway', Statistic: 'Average', Threshold: 0.05, AlarmActions: [backend!.ops_alarms_topic_arn] });

    // The stage: X-Ray, JSON access logs to their group, execution logging on every method; WAF in front.
    const [, restApiId] = /restapis\/([^/]+)\/stages\//.exec(backend!.api_stage_arn) ?? [];
    const stage = await new APIGatewayClient(clientConfig()).send(new GetStageCommand({ restApiId, stageName: settings.api.stageName }));
    expect(stage.tracingEnabled).toBe(true);
    expect(stage.accessLogSettings?.destinationArn).toContain(backend!.api_access_log_group_name);
    expect(JSON.parse(stage.accessLogSettings?.format ?? '{}')).toMatchObject({ status: '$context.status', requestId: '$context.requestId' });
    expect(stage.methodSettings?.['*/*']).toMatchObject({ loggingLevel: 'ERROR', dataTraceEnabled: false, metricsEnabled: true });
    expect(backend!.api_web_acl_arn).toBeTruthy();
    expect(stage.webAclArn).toBe(backend!.api_web_acl_arn);

    // One dashboard, showing the business metrics by the function that counts them.
    const { DashboardBody = '{}' } = await cloudwatch.send(new GetDashboardCommand({ DashboardName: backend!.dashboard_name }));
    expect(dashboardBusinessMetrics(DashboardBody, 'OrderPipeline')).toEqual(countedBusinessMetrics());
  }, 60_000);

  it('when the backend is applied, then the kitchen runs on its schedule with its timings, the table has the due-orders and account-orders indexes and the order mail passes only order.received', async () => {
    expect(backend).toBeDefined();
    const kitchen = functions['advance-orders'];
    const lambda = new LambdaClient(clientConfig());
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: backend!.lambda_function_names['advance-orders'] }));
    expect({ runtime: configuration.Runtime, architectures: configuration.Architectures, memory: configuration.MemorySize, timeout: configuration.Timeout }).toEqual({
      runtime: settings.lambda.runtime,
      architectures: [settings.lambda.architecture],
      memory: kitchen.memoryMb,
      timeout: kitchen.timeoutSeconds,
    });
    const variables = configuration.Environment?.Variables ?? {};
    expect(Object.keys(variables).sort()).toEqual([...Object.keys(kitchen.environment), 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'].sort());
    expect(variables).toMatchObject({ TABLE_NAME: backend!.table_name, ORDER_EVENTS_TOPIC_ARN: backend!.order_events_topic_arn });
    expect(JSON.parse(variables.ORDER_TIMINGS ?? '{}')).toEqual(settings.lifecycle.timingsSeconds);
    const processOrder = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: backend!.lambda_function_names['process-order'] }));
    expect(processOrder.Environment?.Variables?.ORDER_TIMINGS).toBe(variables.ORDER_TIMINGS);

    // The schedule: the rule at the declared rate, the kitchen its one target, and only that rule may invoke it.
    const events = new EventBridgeClient(clientConfig());
    const rule = await events.send(new DescribeRuleCommand({ Name: backend!.kitchen_schedule_rule_name }));
    expect({ schedule: rule.ScheduleExpression, state: rule.State }).toEqual({ schedule: triggerOf('advance-orders', 'schedule').expression, state: 'ENABLED' });
    const { Targets = [] } = await events.send(new ListTargetsByRuleCommand({ Rule: backend!.kitchen_schedule_rule_name }));
    expect(Targets.map((target) => target.Arn)).toEqual([configuration.FunctionArn]);
    const { Policy = '{}' } = await lambda.send(new GetPolicyCommand({ FunctionName: backend!.lambda_function_names['advance-orders'] }));
    const statements = (JSON.parse(Policy) as { Statement: { Principal: { Service?: string }; Condition?: { ArnLike?: Record<string, string> } }[] }).Statement;
    expect(statements.map((statement) => ({ service: statement.Principal.Service, source: statement.Condition?.ArnLike?.['AWS:SourceArn'] }))).toEqual([{ service: 'events.amazonaws.com', source: rule.Arn }]);

    const cloudwatch = new CloudWatchClient(clientConfig());
    const { MetricAlarms = [] } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [backend!.kitchen_error_alarm_name] }));
    expect(MetricAlarms[0]).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: backend!.lambda_function_names['advance-orders'] }],
      Statistic: 'Sum',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [backend!.ops_alarms_topic_arn],
      OKActions: [backend!.ops_alarms_topic_arn],
    });

    // The table as the local stack creates it from the order store: its key, attribute types and the sparse index.
    const { Table } = await new DynamoDBClient(clientConfig()).send(new DescribeTableCommand({ TableName: backend!.table_name }));
    const expected = orderTableDefinition(backend!.table_name);
    expect(Table?.KeySchema).toEqual(expected.KeySchema);
    // In any order: moto answers them in its own.
    const byName = (attributes: { AttributeName?: string }[] = []) => [...attributes].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName)));
    expect(byName(Table?.AttributeDefinitions)).toEqual(byName(expected.AttributeDefinitions));
    // In any order too: Terraform's set of indexes has none.
    const byIndexName = <T extends { IndexName?: string | undefined }>(list: T[]) => [...list].sort((a, b) => String(a.IndexName).localeCompare(String(b.IndexName)));
    const indexes = byIndexName(Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
      IndexName: index.IndexName,
      KeySchema: index.KeySchema,
      Projection: { ProjectionType: index.Projection?.ProjectionType, NonKeyAttributes: [...(index.Projection?.NonKeyAttributes ?? [])].sort() },
    }));
    expect(indexes).toEqual(
      byIndexName(expected.GlobalSecondaryIndexes ?? []).map((index) => ({ ...index, Projection: { ...index.Projection, NonKeyAttributes: [...(index.Projection?.NonKeyAttributes ?? [])].sort() } })),
    );
    expect(indexes.map((index) => index.IndexName)).toEqual([orderTable.accountIndex.name, orderTable.dueIndex.name]);

    const sns = new SNSClient(clientConfig());
    const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: backend!.order_events_topic_arn }));
    const mail = Subscriptions.filter((subscription) => subscription.Protocol === 'email');
    expect(mail.map((subscription) => subscription.Endpoint)).toEqual(['orders@example.com']);
    const { Attributes = {} } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: mail[0]!.SubscriptionArn! }));
    expect(JSON.parse(Attributes.FilterPolicy ?? '{}')).toEqual(ORDER_EVENTS_EMAIL_FILTER);
  }, 60_000);

  it('when the backend is applied, then customers have their user pool and app client as the local stack makes them, the /me routes need the Cognito authorizer and the key, carts expire by TTL, the products table is keyed as the product store says, and order-events reaches notify-customer raw and filtered', async () => {
    expect(backend).toBeDefined();
    // The pool and its client, as local/cognito.ts creates them.
    const cognito = new CognitoIdentityProviderClient(clientConfig());
    const { UserPool } = await cognito.send(new DescribeUserPoolCommand({ UserPoolId: backend!.user_pool_id }));
    const pool = userPoolDefinition();
    const wanted = pool.Policies?.PasswordPolicy ?? {};
    // Each field the local pool sets; a false one comes back absent from moto, which Cognito reads as false too.
    const password = Object.fromEntries(Object.entries(wanted).map(([field, value]) => [field, (UserPool?.Policies?.PasswordPolicy as Record<string, unknown> | undefined)?.[field] ?? (value === false ? false : undefined)]));
    expect({ name: UserPool?.Name, username: UserPool?.UsernameAttributes, verified: UserPool?.AutoVerifiedAttributes, password }).toEqual({
      name: pool.PoolName,
      username: pool.UsernameAttributes,
      verified: pool.AutoVerifiedAttributes,
      password: wanted,
    });
    expect(backend!.user_pool_issuer).toBe(`https://cognito-idp.${REGION}.amazonaws.com/${backend!.user_pool_id}`);
    const { UserPoolClient } = await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: backend!.user_pool_id, ClientId: backend!.user_pool_client_id }));
    const client = appClientDefinition(backend!.user_pool_id);
    expect({
      name: UserPoolClient?.ClientName,
      flows: [...(UserPoolClient?.ExplicitAuthFlows ?? [])].sort(),
      secret: UserPoolClient?.ClientSecret,
      id: UserPoolClient?.IdTokenValidity,
      refresh: UserPoolClient?.RefreshTokenValidity,
      units: UserPoolClient?.TokenValidityUnits,
    }).toEqual({
      name: client.ClientName,
      flows: [...(client.ExplicitAuthFlows ?? [])].sort(),
      secret: undefined,
      id: client.IdTokenValidity,
      refresh: client.RefreshTokenValidity,
      units: expect.objectContaining(client.TokenValidityUnits) as unknown,
    });

    // The authorizer on the pool, and each declared route with the authorizer it is declared with and the key.
    const [, restApiId] = /restapis\/([^/]+)\/stages\//.exec(backend!.api_stage_arn) ?? [];
    const apiGateway = new APIGatewayClient(clientConfig());
    const { items: authorizers = [] } = await apiGateway.send(new GetAuthorizersCommand({ restApiId }));
    expect(authorizers.map(({ type, providerARNs, identitySource }) => ({ type, providerARNs, identitySource }))).toEqual([
      { type: 'COGNITO_USER_POOLS', providerARNs: [UserPool?.Arn], identitySource: 'method.request.header.Authorization' },
    ]);
    const { items: resources = [] } = await apiGateway.send(new GetResourcesCommand({ restApiId, limit: 500 }));
    for (const name of functionNames) {
      const trigger = functions[name].trigger;
      if (trigger.type !== 'api') continue;
      for (const route of trigger.routes) {
        const [httpMethod, path] = route.split(' ') as [string, string];
        const resource = resources.find((candidate) => candidate.path === path);
        const method = await apiGateway.send(new GetMethodCommand({ restApiId, resourceId: resource!.id!, httpMethod }));
        const cognitoRoute = 'authorizer' in trigger && trigger.authorizer === 'cognito';
        expect({ route, authorization: method.authorizationType, authorizer: method.authorizerId, key: method.apiKeyRequired }).toEqual({
          route,
          authorization: cognitoRoute ? 'COGNITO_USER_POOLS' : 'NONE',
          authorizer: cognitoRoute ? authorizers[0]!.id : undefined,
          key: true,
        });
      }
    }

    // The carts table as the local stack creates it, with DynamoDB TTL on the cart store's attribute.
    const dynamodb = new DynamoDBClient(clientConfig());
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: backend!.carts_table_name }));
    const carts = cartTableDefinition(backend!.carts_table_name);
    expect({ key: Table?.KeySchema, attributes: Table?.AttributeDefinitions }).toEqual({ key: carts.KeySchema, attributes: carts.AttributeDefinitions });
    const { TimeToLiveDescription } = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: backend!.carts_table_name }));
    expect(TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: cartTable.ttlAttribute });
    // The products table (the menu) as the local stack creates it, with no TTL: nothing in it expires.
    const { Table: productsTable } = await dynamodb.send(new DescribeTableCommand({ TableName: backend!.products_table_name }));
    const products = productTableDefinition(backend!.products_table_name);
    expect({ key: productsTable?.KeySchema, attributes: productsTable?.AttributeDefinitions }).toEqual({ key: products.KeySchema, attributes: products.AttributeDefinitions });
    const { TimeToLiveDescription: productsTtl } = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: backend!.products_table_name }));
    expect(productsTtl?.TimeToLiveStatus).toBe('DISABLED');

    // order-events -> the customer notifications queue (raw, filtered, only the topic may send) -> notify-customer.
    const sqs = new SQSClient(clientConfig());
    const { Attributes: queue = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: backend!.customer_notifications_queue_url, AttributeNames: ['All'] }));
    const { Attributes: dlq = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: backend!.customer_notifications_dead_letter_queue_url, AttributeNames: ['All'] }));
    const redrive = JSON.parse(queue.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
    expect({ target: redrive.deadLetterTargetArn, maxReceiveCount: Number(redrive.maxReceiveCount), sse: queue.SqsManagedSseEnabled, dlqSse: dlq.SqsManagedSseEnabled }).toEqual({
      target: dlq.QueueArn,
      maxReceiveCount: settings.queue.maxReceiveCount,
      sse: 'true',
      dlqSse: 'true',
    });
    const policy = JSON.parse(queue.Policy ?? '{}') as { Statement: { Principal: unknown; Action: unknown; Condition: unknown }[] };
    expect(policy.Statement.map(({ Principal, Action, Condition }) => ({ Principal, Action, Condition }))).toEqual([
      { Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': backend!.order_events_topic_arn } } },
    ]);
    const sns = new SNSClient(clientConfig());
    const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: backend!.order_events_topic_arn }));
    const toQueue = Subscriptions.filter((subscription) => subscription.Protocol === 'sqs');
    expect(toQueue.map((subscription) => subscription.Endpoint)).toEqual([queue.QueueArn]);
    const { Attributes: subscription = {} } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: toQueue[0]!.SubscriptionArn! }));
    expect({ raw: subscription.RawMessageDelivery, filter: JSON.parse(subscription.FilterPolicy ?? '{}') as unknown }).toEqual({ raw: 'true', filter: CUSTOMER_MAIL_FILTER });
    const lambda = new LambdaClient(clientConfig());
    const notifyCustomer = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: backend!.lambda_function_names['notify-customer'] }));
    const { EventSourceMappings = [] } = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: notifyCustomer.FunctionArn }));
    const declared = triggerOf('notify-customer', 'queue');
    expect(EventSourceMappings.map(({ EventSourceArn, BatchSize, FunctionResponseTypes }) => ({ EventSourceArn, BatchSize, FunctionResponseTypes }))).toEqual([
      { EventSourceArn: queue.QueueArn, BatchSize: declared.batchSize, FunctionResponseTypes: ['ReportBatchItemFailures'] },
    ]);
    expect(notifyCustomer.Environment?.Variables).toMatchObject({ TABLE_NAME: backend!.table_name, MAIL_FROM: 'orders@shop.example' });
    const checkout = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: backend!.lambda_function_names.checkout }));
    expect(checkout.Environment?.Variables).toMatchObject({ CARTS_TABLE_NAME: backend!.carts_table_name, CART_TTL_SECONDS: String(settings.cart.ttlSeconds), QUEUE_URL: backend!.queue_url, PRODUCTS_TABLE_NAME: backend!.products_table_name });

    // The sender's SES identity.
    const { IdentityType } = await new SESv2Client(clientConfig()).send(new GetEmailIdentityCommand({ EmailIdentity: 'orders@shop.example' }));
    expect(IdentityType).toBe('EMAIL_ADDRESS');
    expect(backend!.customer_mail_identity_arn).toMatch(/^arn:aws:ses:us-east-1:\d{12}:identity\/orders@shop\.example$/);
  }, 60_000);

  it('when the web tier is applied from the backend\'s outputs with its defaults (and the backend refreshed meanwhile), then its instances are private, in the account\'s zones, behind WAF, the key parameter is carried, and the key is in no state, show -json, plan or output', async () => {
    expect(backend).toBeDefined();
    expect(apiKey).toBeDefined();
    certificateArn = await requestCertificate();
    frontendApplied = frontendVariables(backend!);
    // Side by side (the web tier holds only strings from the backend): the backend's state read back
    // with the key in place, as every later plan or apply of it reads it.
    await Promise.all([apply('terraform-frontend', frontendApplied), refreshOnly('terraform-backend', backendVariables())]);
    frontend = await outputsOf<FrontendOutputs>('terraform-frontend');

    // Every state file (both modules, their backups), both modules' show -json, every apply's plan and
    // every output so far: none holds the key.
    const { places, found } = await keyOccurrences(apiKey!, { show: true });
    console.log(`API key value after the web tier's apply and the backend's refresh: ${found.length} places hold it, of ${places} searched (${(await stateFiles()).length} state files, 2 show -json, ${printed.length} command outputs: ${printed.map(({ what }) => what).join('; ')})`);
    expect(found).toEqual([]);
    expect(frontend.artifact_object_key).toMatch(/^order-web\/[0-9a-f]{64}\.tar\.gz$/);
    // The overrides left out the TLS-only bucket policies (moto is plain HTTP) and nothing else of the buckets.
    const frontendState = succeeded(await terraform(session!, 'terraform-frontend', ['state', 'list'], { timeoutMs: budget(60_000), env: awsEnv() })).stdout;
    expect(frontendState).not.toContain('aws_s3_bucket_policy');
    expect(frontendState.split('\n').filter((line) => line.startsWith('aws_s3_bucket_lifecycle_configuration.')).sort()).toEqual(['aws_s3_bucket_lifecycle_configuration.access_logs', 'aws_s3_bucket_lifecycle_configuration.artifacts']);

    // Read the launch template, not the instances: moto's instances show optional tokens and an unresolved image.
    const ec2 = new EC2Client(clientConfig());
    const { LaunchTemplateVersions = [] } = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: frontend.launch_template_id, Versions: ['$Latest'] }));
    const data = LaunchTemplateVersions[0]?.LaunchTemplateData;
    expect(data?.MetadataOptions?.HttpTokens).toBe('required');
    expect(data?.BlockDeviceMappings?.[0]?.Ebs).toMatchObject({ Encrypted: true, VolumeType: 'gp3' });
    expect(data?.KeyName).toBeUndefined();
    expect(data?.NetworkInterfaces?.map((network) => network.AssociatePublicIpAddress)).toEqual([false]);
    const userData = Buffer.from(data?.UserData ?? '', 'base64').toString('utf8');
    expect(userData).toContain(`API_KEY_PARAMETER=${backend!.api_key_parameter_name}`);
    expect(userData).toContain(`API_BASE_URL=${backend!.api_base_url}`);
    expect(userData).toContain(`\nCOGNITO_USER_POOL_ID=${backend!.user_pool_id}\nCOGNITO_CLIENT_ID=${backend!.user_pool_client_id}\nCOGNITO_ISSUER=${backend!.user_pool_issuer}\n`);
    // Live order status: the backend's order-events topic, and the prefix each process names its queue with.
    expect(frontend.event_queue_prefix).toBe('order-web-events-');
    expect(userData).toContain(`\nORDER_EVENTS_TOPIC_ARN=${backend!.order_events_topic_arn}\nEVENT_QUEUE_PREFIX=${frontend.event_queue_prefix}\n`);
    expect(userData).not.toContain(apiKey);

    // The private subnets: moto's zones, no public addresses, a route to a NAT gateway and none to the internet gateway.
    const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: frontend.private_subnet_ids }));
    expect(Subnets.map((subnet) => subnet.AvailabilityZone).sort()).toEqual([...frontend.availability_zones].sort());
    expect(Subnets.every((subnet) => subnet.MapPublicIpOnLaunch === false)).toBe(true);
    const { RouteTables = [] } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: frontend.private_subnet_ids }] }));
    const defaultRoutes = RouteTables.flatMap((table) => (table.Routes ?? []).filter((route) => route.DestinationCidrBlock === '0.0.0.0/0'));
    expect(defaultRoutes).toHaveLength(frontend.private_subnet_ids.length);
    expect(defaultRoutes.every((route) => route.NatGatewayId?.startsWith('nat-') && !route.GatewayId)).toBe(true);
    const { NatGateways = [] } = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [frontend.vpc_id] }] }));
    expect(NatGateways.filter((gateway) => gateway.State === 'available')).toHaveLength(frontend.availability_zones.length);
    expect(frontend.nat_instance_id).toBeUndefined();

    // WAF on the load balancer, and its access logs going to their bucket.
    const elbv2 = new ElasticLoadBalancingV2Client(clientConfig());
    const [loadBalancer] = (await elbv2.send(new DescribeLoadBalancersCommand({ Names: [`order-web`] }))).LoadBalancers ?? [];
    const { WebACL } = await new WAFV2Client(clientConfig()).send(new GetWebACLForResourceCommand({ ResourceArn: loadBalancer!.LoadBalancerArn! }));
    expect(WebACL?.ARN).toBe(frontend.web_acl_arn);
    expect(WebACL?.Rules?.map((rule) => rule.Name).sort()).toEqual(['aws-common-rule-set', 'rate-limit-per-ip']);
    const { Attributes = [] } = await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: loadBalancer!.LoadBalancerArn! }));
    expect(Object.fromEntries(Attributes.map(({ Key, Value }) => [Key, Value]))).toMatchObject({ 'access_logs.s3.enabled': 'true', 'access_logs.s3.bucket': frontend.access_log_bucket });
    const { MetricAlarms = [] } = await new CloudWatchClient(clientConfig()).send(new DescribeAlarmsCommand({ AlarmNames: Object.values(frontend.alarm_names) }));
    expect(MetricAlarms.map((alarm) => ({ name: alarm.AlarmName, actions: alarm.AlarmActions })).sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      Object.values(frontend.alarm_names)
        .sort()
        .map((name) => ({ name, actions: [backend!.ops_alarms_topic_arn] })),
    );
  }, 300_000);

  // Must show 1, on moto: HTTPS with the certificate; no certificate fails the plan, naming the opt-in; the opt-in warns.
  it('when the web tier is applied with a certificate, then 443 serves it with TLS 1.2 or later and 80 redirects; a plan without one fails naming allow_insecure_http, and one with allow_insecure_http warns in its outputs', async () => {
    expect(frontend).toBeDefined();
    expect(frontend!.site_url).toMatch(/^https:\/\//);
    expect(frontend!.insecure_http_warning).toBeUndefined();
    const elbv2 = new ElasticLoadBalancingV2Client(clientConfig());
    const { Listeners = [] } = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: await loadBalancerArn(elbv2) }));
    const on = (port: number) => Listeners.find((listener) => listener.Port === port);
    expect(Listeners.map((listener) => listener.Port).sort((a, b) => Number(a) - Number(b))).toEqual([80, 443]);
    expect(on(443)).toMatchObject({ Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', Certificates: [expect.objectContaining({ CertificateArn: certificateArn }) as unknown], DefaultActions: [expect.objectContaining({ Type: 'forward' }) as unknown] });
    expect(on(80)).toMatchObject({ Protocol: 'HTTP', DefaultActions: [expect.objectContaining({ Type: 'redirect', RedirectConfig: expect.objectContaining({ Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' }) as unknown }) as unknown] });

    const withoutCertificate = await planFrontend(frontendVariables(backend!, { certificate_arn: null }));
    expect(withoutCertificate.planned.code).not.toBe(0);
    expect(withoutCertificate.planned.stderr).toMatch(/Resource precondition failed[\s\S]*certificate_arn is not set[\s\S]*allow_insecure_http\s+=\s+true/);
    const insecure = await planFrontend(frontendVariables(backend!, { certificate_arn: null, allow_insecure_http: true }));
    expect(insecure.planned.code).toBe(0);
    const warning = (insecure.plan as { output_changes?: Record<string, { after?: unknown }> } | undefined)?.output_changes?.insecure_http_warning?.after;
    expect(warning).toMatch(/^WARNING: INSECURE\..*passwords and session cookies cross the network in clear text/);
  }, 300_000);

  // Must show 5, on moto: the agent's config as the launch template holds it names a log group that exists, with its retention.
  it('when the web tier is applied, then the CloudWatch agent its launch template installs sends the app\'s and pm2\'s logs to a log group that exists with its retention, and both web ACLs log to kept aws-waf-logs- groups without credentials', async () => {
    expect(frontend).toBeDefined();
    const { LaunchTemplateVersions = [] } = await new EC2Client(clientConfig()).send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: frontend!.launch_template_id, Versions: ['$Latest'] }));
    const userData = Buffer.from(LaunchTemplateVersions[0]?.LaunchTemplateData?.UserData ?? '', 'base64').toString('utf8');
    expect(userData).toMatch(/^dnf install -y amazon-cloudwatch-agent\b/m);
    // The file the agent is started with is the one the heredoc writes.
    const started = /^\S*amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:(\S+)$/m.exec(userData)?.[1];
    const [, afterHeredoc = ''] = userData.split(`cat > ${String(started)} <<'AGENT'\n`);
    const config = JSON.parse(afterHeredoc.split('\nAGENT\n')[0]!) as { logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string; log_stream_name: string }[] } } } };
    const files = config.logs.logs_collected.files.collect_list;
    const pm2Home = /^Environment=PM2_HOME=(.+)$/m.exec(userData)?.[1];
    expect(files.map((file) => [file.file_path, file.log_stream_name])).toEqual([
      [`${pm2Home}/logs/order-web-out.log`, '{instance_id}/app'],
      [`${pm2Home}/logs/order-web-error.log`, '{instance_id}/app-errors'],
      ['/var/lib/order-web/pm2-runtime.log', '{instance_id}/pm2'],
    ]);
    expect([...new Set(files.map((file) => file.log_group_name))]).toEqual([frontend!.instance_log_group_name]);

    const logs = new CloudWatchLogsClient(clientConfig());
    const retentionOf = async (name: string) => (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }))).logGroups?.filter((group) => group.logGroupName === name).map((group) => group.retentionInDays);
    expect(await retentionOf(frontend!.instance_log_group_name)).toEqual([30]);

    const waf = new WAFV2Client(clientConfig());
    for (const [acl, group] of [[frontend!.web_acl_arn, frontend!.waf_log_group_name], [backend!.api_web_acl_arn, backend!.api_waf_log_group_name]] as const) {
      expect(group).toMatch(/^aws-waf-logs-/);
      const { LoggingConfiguration } = await waf.send(new GetLoggingConfigurationCommand({ ResourceArn: acl! }));
      expect(LoggingConfiguration?.LogDestinationConfigs).toEqual([expect.stringMatching(new RegExp(`:log-group:${group!}$`))]);
      expect((LoggingConfiguration?.RedactedFields ?? []).map((field) => field.SingleHeader?.Name).sort()).toEqual(['authorization', 'cookie', 'x-api-key']);
      expect(await retentionOf(group!)).toEqual([30]);
    }
  }, 120_000);

  it('when both modules as applied are planned as written (what moto cannot do put back), then nothing breaks the security policy, and the kitchen\'s and notify-customer\'s grants, the customer queue\'s policy, each route\'s and the schedule\'s invoke permission, the load balancer\'s port 80, IMDSv2 and encryption are among the facts judged', async () => {
    expect(frontend).toBeDefined();
    asWritten = await planBothAsWritten();
    const { 'terraform-backend': backendPlan, 'terraform-frontend': frontendPlan } = asWritten;
    // What the overrides dropped is planned, with its values known: the modules are judged as written, not as moto holds them.
    expect(plannedResource(backendPlan, 'aws_sqs_queue_redrive_allow_policy.orders_dlq')?.values.redrive_allow_policy).toContain(plannedResource(backendPlan, 'aws_sqs_queue.orders')?.values.arn);
    expect(plannedResource(frontendPlan, 'aws_s3_bucket_policy.artifacts')?.values.policy).toContain('aws:SecureTransport');

    const [backendModel, frontendModel] = [terraformModel(backendPlan), terraformModel(frontendPlan)];
    expect(findViolations(backendModel)).toEqual([]);
    expect(findViolations(frontendModel)).toEqual([]);

    expect(new Set(backendModel.encryption.map((fact) => fact.kind))).toEqual(new Set(['queue', 'topic', 'table']));
    expect(new Set(frontendModel.encryption.map((fact) => fact.kind))).toEqual(new Set(['bucket', 'volume']));
    const actionsAt = (prefix: string) => backendModel.statements.filter(({ where }) => where.startsWith(prefix)).map(({ actions }) => actions);
    expect(actionsAt('aws_iam_role_policy.grants["advance-orders"].')).toEqual([['dynamodb:Query'], ['dynamodb:GetItem', 'dynamodb:UpdateItem'], ['sns:Publish'], ['kms:GenerateDataKey', 'kms:Decrypt']]);
    expect(actionsAt('aws_iam_role_policy.grants["notify-customer"].')).toEqual([['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], ['dynamodb:GetItem', 'dynamodb:UpdateItem'], ['ses:SendEmail']]);
    expect(actionsAt('aws_sqs_queue_policy.customer_notifications.')).toEqual([['sqs:SendMessage']]);
    // One permission a declared route, each for its method and path of this API only, and the schedule's for its rule only.
    const executionArn = String(plannedResource(backendPlan, 'aws_api_gateway_rest_api.orders')?.values.execution_arn);
    const byWhere = <T extends { where: string }>(list: T[]) => [...list].sort((a, b) => a.where.localeCompare(b.where));
    expect(byWhere(backendModel.invokePermissions)).toEqual(
      byWhere([
        ...apiRoutes.map((route) => ({ where: `aws_lambda_permission.api[${JSON.stringify(route)}]`, principal: 'apigateway.amazonaws.com', sourceArn: routeSourceArn(executionArn, route) })),
        { where: 'aws_lambda_permission.kitchen_schedule', principal: 'events.amazonaws.com', sourceArn: String(plannedResource(backendPlan, 'aws_cloudwatch_event_rule.kitchen')?.values.arn) },
      ]),
    );
    expect(executionArn).toMatch(/^arn:aws:execute-api:us-east-1:\d{12}:\w+$/);

    expect(frontendModel.ingress).toEqual(expect.arrayContaining([{ where: 'aws_vpc_security_group_ingress_rule.alb["80-0.0.0.0/0"]', fromPort: 80, toPort: 80, cidr: '0.0.0.0/0', loadBalancer: true }]));
    expect(frontendModel.instanceMetadata).toEqual([{ where: 'aws_launch_template.web', tokensRequired: true }]);
    expect(frontendModel.statements.length).toBeGreaterThan(2);
    expect(frontendModel.keyPairs).toEqual([]);

    // The web role's order event grants as applied: queues of its prefix in this account, and the
    // backend's order-events topic (its ARN from the backend's output) and its subscriptions only.
    const account = /^arn:aws:iam::(\d{12}):role\//.exec(String(plannedResource(frontendPlan, 'aws_iam_role.web')?.values.arn))?.[1];
    const queues = `arn:aws:sqs:${REGION}:${String(account)}:${frontend!.event_queue_prefix}*`;
    const topic = backend!.order_events_topic_arn;
    expect(frontendModel.statements.filter(({ where }) => where.startsWith('aws_iam_role_policy.web_events.')).map(({ actions, resources, condition }) => ({ actions, resources, condition }))).toEqual([
      {
        actions: ['sqs:CreateQueue', 'sqs:DeleteQueue', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes', 'sqs:TagQueue', 'sqs:ListQueueTags', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
        resources: [queues],
        condition: undefined,
      },
      { actions: ['sqs:ListQueues'], resources: ['*'], condition: undefined },
      { actions: ['sns:Subscribe'], resources: [topic], condition: { StringEquals: { 'sns:Protocol': 'sqs' }, StringLike: { 'sns:Endpoint': queues } } },
      { actions: ['sns:ListSubscriptionsByTopic'], resources: [topic], condition: undefined },
      { actions: ['sns:Unsubscribe'], resources: [topic, `${topic}:*`], condition: undefined },
    ]);
  }, 300_000);

  it('when both modules\' plans are read for the Control Tower controls, then every control has facts and all hold', () => {
    expect(asWritten).toBeDefined();
    const models = [terraformModel(asWritten!['terraform-backend']), terraformModel(asWritten!['terraform-frontend'])];
    expect([...controlsFound(...models)].sort()).toEqual(Object.keys(CONTROLS).sort());
    expect(models.flatMap((model) => model.controls.filter((fact) => !fact.ok))).toEqual([]);
  });

  it('when the backend as applied is planned, then each function\'s variables hold the deployed values its declared refs name, its role holds its declared grants each on its target\'s ARN (and only its own log streams and X-Ray besides), and each route\'s invoke permission is for its declared function', () => {
    expect(asWritten).toBeDefined();
    const plan = asWritten!['terraform-backend'];
    const resources = plan.planned_values.root_module.resources ?? [];
    const valuesAt = (address: string) => plannedResource(plan, address)?.values ?? {};
    const valueOf = (ref: ResourceRef): unknown => {
      const where = TERRAFORM_REFS[ref];
      return 'variable' in where ? planVariable(plan, where.variable) : valuesAt(where.resource)[where.attribute];
    };
    const arnOf = (target: PermissionTarget): unknown => {
      const { resource, index } = TERRAFORM_PERMISSION_TARGETS[target];
      const table = valuesAt(resource);
      if (index === undefined) return table.arn;
      // An index's ARN names one the table has.
      return ((table.global_secondary_index as { name: string }[] | undefined) ?? []).some((candidate) => candidate.name === index) ? `${String(table.arn)}/index/${index}` : `<${resource} has no index ${index}>`;
    };
    // In a stable order: by Sid, or by the first action of a statement without one.
    const inOrder = (statements: Record<string, unknown>[]) => {
      const key = (statement: Record<string, unknown>) => (typeof statement.Sid === 'string' ? statement.Sid : JSON.stringify(statement.Action));
      return [...statements].sort((a, b) => key(a).localeCompare(key(b)));
    };

    for (const name of functionNames) {
      const spec = functions[name];
      const functionName = backend!.lambda_function_names[name];
      const fn = resources.find((resource) => resource.type === 'aws_lambda_function' && resource.values.function_name === functionName);
      const variables = (fn?.values.environment as { variables?: Record<string, string> }[] | undefined)?.[0]?.variables ?? {};
      // Powertools' variables are the same for every function, and no ref; an object ref is given as its JSON.
      const bound = Object.fromEntries(Object.entries(variables).filter(([variable]) => !variable.startsWith('POWERTOOLS_')));
      const expected = Object.fromEntries(Object.entries(spec.environment).map(([variable, ref]) => [variable, valueOf(ref)]));
      expect({ name, variables: Object.fromEntries(Object.entries(bound).map(([variable, value]) => [variable, typeof expected[variable] === 'object' ? (JSON.parse(value) as unknown) : value])) }).toEqual({
        name,
        variables: Object.fromEntries(Object.entries(expected).map(([variable, value]) => [variable, typeof value === 'number' ? String(value) : value])),
      });

      const role = resources.find((resource) => resource.type === 'aws_iam_role' && resource.values.arn === fn?.values.role);
      const statements = resources
        .filter((resource) => resource.type === 'aws_iam_role_policy' && resource.values.role === role?.values.id)
        .flatMap((policy) => (JSON.parse(String(policy.values.policy)) as { Statement: Record<string, unknown>[] }).Statement);
      const logGroup = resources.find((resource) => resource.type === 'aws_cloudwatch_log_group' && resource.values.name === `/aws/lambda/${functionName}`);
      expect({ name, statements: inOrder(statements) }).toEqual({
        name,
        statements: inOrder([
          ...spec.permissions.map((grant) => ({
            Sid: grant.sid,
            Effect: 'Allow',
            Action: grant.actions,
            Resource: arnOf(grant.on),
            // The sender is held to the configured address (platform/functions.ts, PERMISSION_TARGETS).
            ...(grant.on === 'customer-mail-identity' ? { Condition: { StringEquals: { 'ses:FromAddress': valueOf('customer-mail-from') } } } : {}),
          })),
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${String(logGroup?.values.arn)}:*` },
          { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
        ]),
      });
    }

    const executionArn = String(valuesAt('aws_api_gateway_rest_api.orders').execution_arn);
    const permissions = resources.filter((resource) => resource.type === 'aws_lambda_permission' && resource.values.principal === 'apigateway.amazonaws.com');
    for (const name of functionNames) {
      const trigger = functions[name].trigger;
      if (trigger.type !== 'api') continue;
      for (const route of trigger.routes) {
        const permission = permissions.find((candidate) => candidate.values.source_arn === routeSourceArn(executionArn, route));
        expect({ route, function: permission?.values.function_name }).toEqual({ route, function: backend!.lambda_function_names[name] });
      }
    }
  });

  it('when a grant of everything, SSH from anywhere, an instance with a key pair, optional IMDS tokens and an unencrypted disk, a Query on every index, a schedule permission for any rule, a log group kept forever, a queue without a DLQ and a silent alarm are planted and planned, or the buckets go without their TLS-only policies, then the policy catches each', async () => {
    expect(asWritten).toBeDefined();
    const planted = await planBothAsWritten({ 'terraform-backend': { 'planted.tf': PLANTED_BACKEND + PLANTED_CONTROLS }, 'terraform-frontend': { 'planted.tf': PLANTED_FRONTEND } });
    // Each copy is as it was: the planted files gone, the overrides back.
    for (const module of ['terraform-backend', 'terraform-frontend'] as const) {
      const files = await readdir(session!.workspaces.get(module)!.dir);
      expect({ module, planted: files.includes('planted.tf'), overrides: Object.keys(rehearsalOverrides()[module]).every((file) => files.includes(file)) }).toEqual({ module, planted: false, overrides: true });
    }

    expect(findViolations(terraformModel(planted['terraform-frontend']))).toEqual([
      'aws_iam_role_policy.planted_admin.policy.Statement[0]: wildcard action *',
      'aws_iam_role_policy.planted_admin.policy.Statement[0]: Resource "*" where a narrower resource exists',
      'aws_vpc_security_group_ingress_rule.planted_ssh: ingress on port 22',
      'aws_vpc_security_group_ingress_rule.planted_ssh: ingress from 0.0.0.0/0 on 22-22',
      'aws_instance.planted_open.root_block_device: volume not encrypted at rest',
      'aws_instance.planted_open: IMDSv2 (http tokens) not required',
      'aws_instance.planted_open: key pair planted (no SSH here: Session Manager)',
    ]);
    // The table's ARN as the state holds it, with the index wildcard after it.
    const ordersTableArn = String(plannedResource(planted['terraform-backend'], 'aws_dynamodb_table.orders')?.values.arn);
    expect(ordersTableArn).toMatch(/^arn:aws:dynamodb:us-east-1:\d{12}:table\/orders$/);
    expect(findViolations(terraformModel(planted['terraform-backend']))).toEqual([
      `aws_iam_role_policy.planted_every_index.policy.Statement[0]: wildcard in resource ${ordersTableArn}/index/*`,
      'aws_lambda_permission.planted_any_rule: events.amazonaws.com may invoke the function from any source (no source ARN)',
      'aws_cloudwatch_metric_alarm.planted_silent: fails cloudwatch_alarm_action_check: every alarm notifies someone, with its actions enabled',
      'aws_cloudwatch_log_group.planted_forever: fails cloudwatch_log_group_retention_period_check: every log group has a retention',
      'aws_sqs_queue.planted_no_dlq: fails sqs_dlq_check: every queue has a dead-letter queue, or is one',
    ]);

    // The web tier as the override leaves it on moto: without its buckets' TLS-only policies.
    const plan = asWritten!['terraform-frontend'];
    const withoutBucketPolicies: PlanDocument = {
      ...plan,
      planned_values: { root_module: { resources: (plan.planned_values.root_module.resources ?? []).filter((resource) => resource.type !== 'aws_s3_bucket_policy') } },
    };
    expect(findViolations(terraformModel(withoutBucketPolicies))).toEqual([
      'aws_s3_bucket.access_logs: fails s3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
      'aws_s3_bucket.artifacts: fails s3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
    ]);
  }, 300_000);

  it('when the web tier is applied again with another app_port and small-shop.tfvars, then the apply succeeds: a new target group replaces the old one under the listener, the rules follow the port, the NAT gateways give way to one NAT instance in a public subnet that every private subnet routes to, and the instances lose detailed monitoring', async () => {
    expect(frontend).toBeDefined();
    const elbv2 = new ElasticLoadBalancingV2Client(clientConfig());
    const before = (await elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: await loadBalancerArn(elbv2) }))).TargetGroups ?? [];
    expect(before.map((group) => group.Port)).toEqual([settings.web.appPort]);

    const port = settings.web.appPort + 1;
    frontendApplied = frontendVariables(backend!, { app_port: port });
    // The small-shop setting in the same apply, over the running deployment (so it adds little time).
    const smallShopPlan = await applyWithPlan('terraform-frontend', frontendApplied, SMALL_SHOP);

    // Every target group there is (moto does not link a group to the load balancer through a changed
    // listener, so a lookup by load balancer finds none): one, the new one, on the new port.
    const after = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    expect(after.map((group) => group.Port)).toEqual([port]);
    expect(after[0]!.TargetGroupArn).not.toBe(before[0]!.TargetGroupArn);
    const { Listeners = [] } = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: await loadBalancerArn(elbv2) }));
    // Port 443 forwards; port 80 only redirects to it.
    expect(Listeners.filter((listener) => listener.DefaultActions?.[0]?.Type === 'forward').map((listener) => listener.DefaultActions?.[0]?.TargetGroupArn)).toEqual([after[0]!.TargetGroupArn]);
    const { SecurityGroupRules = [] } = await new EC2Client(clientConfig()).send(new DescribeSecurityGroupRulesCommand({}));
    // (The NAT instance admits 80 and 443 from the instances' group: not the app port's rules.)
    const appPortRules = SecurityGroupRules.filter((rule) => rule.ReferencedGroupInfo?.GroupId && rule.FromPort !== 443 && rule.FromPort !== 80);
    expect(appPortRules.map((rule) => `${rule.IsEgress ? 'egress' : 'ingress'} ${rule.FromPort}-${rule.ToPort}`).sort()).toEqual([`egress ${port}-${port}`, `ingress ${port}-${port}`]);
    const { LaunchTemplateVersions = [] } = await new EC2Client(clientConfig()).send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: frontend!.launch_template_id, Versions: ['$Latest'] }));
    expect(Buffer.from(LaunchTemplateVersions[0]?.LaunchTemplateData?.UserData ?? '', 'base64').toString('utf8')).toContain(`PORT=${port}`);
    expect(LaunchTemplateVersions[0]?.LaunchTemplateData?.Monitoring?.Enabled).toBe(false);

    // The small-shop network: one NAT instance, running, in a public subnet (routed to the internet
    // gateway), with a public address and no source/destination check or key; every private subnet's
    // default route to its primary interface; no NAT gateway or NAT address left.
    const outputs = await outputsOf<FrontendOutputs>('terraform-frontend');
    const ec2 = new EC2Client(clientConfig());
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [String(outputs.nat_instance_id)] }));
    const nat = Reservations[0]?.Instances?.[0];
    expect({ state: nat?.State?.Name, sourceDestCheck: nat?.SourceDestCheck, publicIp: nat?.PublicIpAddress, name: nat?.Tags?.find((tag) => tag.Key === 'Name')?.Value, key: nat?.KeyName }).toEqual({
      state: 'running',
      sourceDestCheck: false,
      publicIp: outputs.nat_instance_public_ip,
      name: 'order-web-nat',
      key: undefined,
    });
    expect(outputs.private_subnet_ids).not.toContain(nat?.SubnetId);
    // Its launch template, not the instance (moto's instances show optional tokens and an unresolved image).
    const natTemplateId = nat?.Tags?.find((tag) => tag.Key === 'aws:ec2launchtemplate:id')?.Value;
    const { LaunchTemplateVersions: [natTemplate] = [] } = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: natTemplateId, Versions: ['$Latest'] }));
    const natData = natTemplate?.LaunchTemplateData;
    expect({
      image: natData?.ImageId,
      tokens: natData?.MetadataOptions?.HttpTokens,
      hops: natData?.MetadataOptions?.HttpPutResponseHopLimit,
      disk: natData?.BlockDeviceMappings?.map((mapping) => ({ encrypted: mapping.Ebs?.Encrypted, type: mapping.Ebs?.VolumeType })),
      key: natData?.KeyName,
      role: natData?.IamInstanceProfile,
      monitoring: natData?.Monitoring?.Enabled,
    }).toEqual({ image: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64', tokens: 'required', hops: 1, disk: [{ encrypted: true, type: 'gp3' }], key: undefined, role: undefined, monitoring: false });
    const natUserData = Buffer.from(natData?.UserData ?? '', 'base64').toString('utf8');
    expect(natUserData).toMatch(/^net\.ipv4\.ip_forward = 1$/m);
    expect(natUserData).toMatch(/^iptables -t nat -A POSTROUTING -o "\$primary" -s 10\.20\.0\.0\/16 -j MASQUERADE$/m);
    const { RouteTables: natSubnetTables = [] } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [String(nat?.SubnetId)] }] }));
    expect(natSubnetTables.flatMap((table) => table.Routes ?? []).filter((route) => route.DestinationCidrBlock === '0.0.0.0/0').map((route) => route.GatewayId?.slice(0, 4))).toEqual(['igw-']);
    const eni = nat?.NetworkInterfaces?.find((network) => network.Attachment?.DeviceIndex === 0)?.NetworkInterfaceId;
    expect(eni).toMatch(/^eni-/);
    const { RouteTables = [] } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: outputs.private_subnet_ids }] }));
    const defaultRoutes = RouteTables.flatMap((table) => (table.Routes ?? []).filter((route) => route.DestinationCidrBlock === '0.0.0.0/0'));
    expect(defaultRoutes.map((route) => ({ eni: route.NetworkInterfaceId, natGateway: route.NatGatewayId }))).toEqual(outputs.private_subnet_ids.map(() => ({ eni, natGateway: undefined })));
    const { NatGateways = [] } = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [outputs.vpc_id] }] }));
    expect(NatGateways.filter((gateway) => gateway.State !== 'deleted')).toEqual([]);
    const { Addresses = [] } = await ec2.send(new DescribeAddressesCommand({}));
    expect(outputs.nat_gateway_public_ips).toEqual([]);
    expect(Addresses.filter((address) => address.Tags?.some((tag) => tag.Key === 'Name' && tag.Value?.startsWith('order-web-nat')))).toEqual([]);

    // The security policy over what this apply planned: the NAT instance requires IMDSv2, has an
    // encrypted disk and no key pair, and admits only the instances' group; what the setting gives up on
    // purpose is detailed monitoring, of both templates. (The buckets' TLS-only policies are the
    // rehearsal's overrides', judged as written above.)
    const smallShopModel = terraformModel(smallShopPlan);
    expect(findViolations(smallShopModel)).toEqual([
      'aws_launch_template.nat[0]: fails ec2_launch_template_monitoring_enabled_check: detailed monitoring is on',
      'aws_launch_template.web: fails ec2_launch_template_monitoring_enabled_check: detailed monitoring is on',
      'aws_s3_bucket.access_logs: fails s3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
      'aws_s3_bucket.artifacts: fails s3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
    ]);
    // (The instance takes its metadata options and disk from its launch template, judged as such.)
    expect(smallShopModel.instanceMetadata).toEqual([
      { where: 'aws_launch_template.nat[0]', tokensRequired: true },
      { where: 'aws_launch_template.web', tokensRequired: true },
    ]);
    expect(smallShopModel.encryption.filter(({ kind }) => kind === 'volume')).toEqual([
      { where: 'aws_launch_template.nat[0].block_device_mappings[0]', kind: 'volume', encrypted: true },
      { where: 'aws_launch_template.web.block_device_mappings[0]', kind: 'volume', encrypted: true },
    ]);
    expect(smallShopModel.keyPairs).toEqual([]);
    expect(smallShopModel.ingress.filter(({ where }) => where.includes('.nat_from_instances'))).toEqual([
      { where: 'aws_vpc_security_group_ingress_rule.nat_from_instances["http"]', fromPort: 80, toPort: 80, cidr: null, loadBalancer: false },
      { where: 'aws_vpc_security_group_ingress_rule.nat_from_instances["https"]', fromPort: 443, toPort: 443, cidr: null, loadBalancer: false },
    ]);
    // The states this apply wrote, and its plan, hold no key either.
    expect((await keyOccurrences(apiKey!, { show: false })).found).toEqual([]);
  }, 300_000);

  it('when npm run api-key -- delete runs and both are destroyed, then no API key, queue, function, table, alarm, dashboard, web ACL, schedule rule, parameter, VPC, launch template, NAT instance, user pool or SES identity is left', async () => {
    expect(backend).toBeDefined();
    await secondGone;
    // The key first, while its usage plan exists: the order the README gives.
    const deleted = await apiKeyTool('delete', '--yes');
    expect(deleted.stdout).toMatch(new RegExp(`^Deleted 1 API key \\(\\w+\\) and ${backend!.api_key_parameter_name}\\.`));
    apiKeyMade = false;
    expect(printed.filter(({ text }) => text.includes(apiKey!)).map(({ what }) => what)).toEqual([]);
    // Side by side: the web tier holds only strings from the backend, no Terraform dependency.
    await Promise.all([destroy('terraform-frontend', frontendApplied ?? frontendVariables(backend!)), destroy('terraform-backend', backendVariables())]);
    expect(await stateResourceCount('terraform-frontend')).toBe(0);
    expect(await stateResourceCount('terraform-backend')).toBe(0);

    const [queues, lambdas, tables, alarms, rules, parameters, templates, dashboards, webAcls, vpcs, apiKeys, userPools, senderIdentity, natInstances] = await Promise.all([
      new SQSClient(clientConfig()).send(new ListQueuesCommand({})),
      new LambdaClient(clientConfig()).send(new ListFunctionsCommand({})),
      new DynamoDBClient(clientConfig()).send(new ListTablesCommand({})),
      new CloudWatchClient(clientConfig()).send(new DescribeAlarmsCommand({})),
      new EventBridgeClient(clientConfig()).send(new ListRulesCommand({})),
      new SSMClient(clientConfig()).send(new DescribeParametersCommand({})),
      new EC2Client(clientConfig()).send(new DescribeLaunchTemplatesCommand({})),
      new CloudWatchClient(clientConfig()).send(new ListDashboardsCommand({})),
      new WAFV2Client(clientConfig()).send(new ListWebACLsCommand({ Scope: 'REGIONAL' })),
      new EC2Client(clientConfig()).send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Project', Values: ['order-pipeline'] }] })),
      new APIGatewayClient(clientConfig()).send(new GetApiKeysCommand({})),
      new CognitoIdentityProviderClient(clientConfig()).send(new ListUserPoolsCommand({ MaxResults: 60 })),
      // moto answers ListEmailIdentities with a 404 page: the sender is looked up by its address instead.
      new SESv2Client(clientConfig()).send(new GetEmailIdentityCommand({ EmailIdentity: 'orders@shop.example' })).then(
        () => 'still there',
        (error: Error) => error.name,
      ),
      new EC2Client(clientConfig()).send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['order-web-nat'] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] })),
    ]);
    expect({
      queues: queues.QueueUrls ?? [],
      functions: lambdas.Functions ?? [],
      tables: tables.TableNames ?? [],
      alarms: alarms.MetricAlarms ?? [],
      rules: rules.Rules ?? [],
      parameters: parameters.Parameters ?? [],
      launchTemplates: templates.LaunchTemplates ?? [],
      dashboards: dashboards.DashboardEntries ?? [],
      webAcls: webAcls.WebACLs ?? [],
      vpcs: vpcs.Vpcs ?? [],
      apiKeys: apiKeys.items ?? [],
      userPools: userPools.UserPools ?? [],
      senderIdentity,
      natInstances: (natInstances.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []),
    }).toEqual({ queues: [], functions: [], tables: [], alarms: [], rules: [], parameters: [], launchTemplates: [], dashboards: [], webAcls: [], vpcs: [], apiKeys: [], userPools: [], senderIdentity: 'NotFoundException', natInstances: [] });
  }, 400_000);
  it('when the backend is applied again with queue_type = fifo (the queues, the mapping and the queue alarms only), then both queues are FIFO without content-based deduplication, orders.fifo redrives to orders-dlq.fifo after 5 receives, the mapping has no batching window, and destroy leaves no queue', async () => {
    // After the standard run's destroy. Targeted, to keep the added time small: the queues, the mapping
    // and the alarms on the queues are what the queue type changes; -target brings in what they need
    // (process-order, its role, the table, the topics), and none of the API, WAF or dashboard.
    const variables = { ...backendVariables(), queue_type: 'fifo' };
    const targets = ['aws_lambda_event_source_mapping.orders', 'aws_sqs_queue_redrive_allow_policy.orders_dlq', 'aws_cloudwatch_metric_alarm.dlq_not_empty', 'aws_cloudwatch_metric_alarm.orders_backlog'];
    await apply('terraform-backend', variables, targets.map((target) => `-target=${target}`));
    const outputs = await outputsOf<Pick<BackendOutputs, 'queue_url' | 'dead_letter_queue_url' | 'event_source_mapping_uuid'>>('terraform-backend');

    const sqs = new SQSClient(clientConfig());
    const { Attributes: queue = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: outputs.queue_url, AttributeNames: ['All'] }));
    const { Attributes: dlq = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: outputs.dead_letter_queue_url, AttributeNames: ['All'] }));
    expect({ queue: outputs.queue_url.split('/').pop(), dlq: outputs.dead_letter_queue_url.split('/').pop() }).toEqual({ queue: 'orders.fifo', dlq: 'orders-dlq.fifo' });
    expect({ fifo: queue.FifoQueue, contentBased: queue.ContentBasedDeduplication }).toEqual({ fifo: 'true', contentBased: 'false' });
    expect({ fifo: dlq.FifoQueue, contentBased: dlq.ContentBasedDeduplication }).toEqual({ fifo: 'true', contentBased: 'false' });
    const redrive = JSON.parse(queue.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
    expect({ target: redrive.deadLetterTargetArn, maxReceiveCount: Number(redrive.maxReceiveCount) }).toEqual({ target: dlq.QueueArn, maxReceiveCount: settings.queue.maxReceiveCount });

    const mapping = await new LambdaClient(clientConfig()).send(new GetEventSourceMappingCommand({ UUID: outputs.event_source_mapping_uuid }));
    expect({ source: mapping.EventSourceArn, batch: mapping.BatchSize, responses: mapping.FunctionResponseTypes }).toEqual({ source: queue.QueueArn, batch: 10, responses: ['ReportBatchItemFailures'] });
    // Unset in the module (a FIFO mapping takes none); what the API reports for "none" is 0 or nothing.
    expect([undefined, 0]).toContain(mapping.MaximumBatchingWindowInSeconds);
    // The state holds what the API read back (0), so what was asked for is read from the apply's plan:
    // the mapping created without the attribute at all.
    const applyOutput = printed.filter(({ what }) => what === 'terraform-backend apply').at(-1)?.text ?? '';
    const created = /# aws_lambda_event_source_mapping\.orders will be created\n([\s\S]*?)\n {4}\}\n/.exec(applyOutput)?.[1] ?? '';
    expect(created).toMatch(/\bbatch_size\s+= 10\b/);
    expect(created).not.toContain('maximum_batching_window_in_seconds');

    const { MetricAlarms = [] } = await new CloudWatchClient(clientConfig()).send(new DescribeAlarmsCommand({ AlarmNames: ['orders-dlq-not-empty', 'orders-oldest-message-age'] }));
    expect(MetricAlarms.map((alarm) => `${alarm.AlarmName} on ${alarm.Dimensions?.[0]?.Value}`).sort()).toEqual(['orders-dlq-not-empty on orders-dlq.fifo', 'orders-oldest-message-age on orders.fifo']);

    await destroy('terraform-backend', variables);
    expect(await stateResourceCount('terraform-backend')).toBe(0);
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls).toEqual([]);
  }, 400_000);

  it('when both backends and the web tier are destroyed, then the account\'s API Gateway logging role is as it was before the first apply', async () => {
    expect(second).toBeUndefined();
    expect(applied.size).toBe(0);
    expect(await accountLoggingRole()).toBe(accountLoggingRoleBefore);
  });
});
