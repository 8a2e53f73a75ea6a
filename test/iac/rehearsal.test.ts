// Deploy rehearsal: both Terraform modules applied to moto (the backend first, the web tier fed
// from its outputs), read back through the AWS SDK, then destroyed until nothing is left.
// Bounded to 10 minutes; every terraform command has its own outer timeout inside that budget.
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetEventSourceMappingCommand, GetFunctionConfigurationCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DescribeParametersCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gate } from '../helpers/requirements.js';
import { waitFor } from '../helpers/wait.js';
import {
  createTerraformSession,
  findExecutable,
  removeTerraformSession,
  repoRoot,
  runCommand,
  succeeded,
  terraform,
  terraformInit,
  terraformUnavailableReason,
  type ModuleName,
  type TerraformSession,
} from './terraform-cli.js';

const BUDGET_MS = 10 * 60_000;
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const LAMBDA_ZIPS = ['submit-order', 'process-order', 'get-order'].map((name) => join(repoRoot, 'dist', 'lambdas', `${name}.zip`));
const WEB_ARTIFACT = join(repoRoot, 'dist', 'web', 'order-web.tar.gz');

const deadline = Date.now() + BUDGET_MS;
/** What is left of the 10-minute budget, capped for one command. */
const budget = (capMs: number) => Math.max(1_000, Math.min(capMs, deadline - Date.now()));

let session: TerraformSession | undefined;
let moto: ChildProcess | undefined;
let endpoint = '';
let webArtifact = WEB_ARTIFACT;
const applied = new Set<ModuleName>();
let backend: BackendOutputs | undefined;
let frontend: FrontendOutputs | undefined;

interface BackendOutputs {
  api_base_url: string;
  api_key_parameter_name: string;
  queue_url: string;
  dead_letter_queue_url: string;
  table_name: string;
  ops_alarms_topic_arn: string;
  order_events_topic_arn: string;
  lambda_function_names: Record<'submit-order' | 'process-order' | 'get-order', string>;
  event_source_mapping_uuid: string;
}

interface FrontendOutputs {
  site_url: string;
  alb_dns_name: string;
  autoscaling_group_name: string;
  artifact_bucket: string;
  artifact_object_key: string;
  launch_template_id: string;
}

const clientConfig = () => ({ endpoint, region: REGION, credentials: CREDENTIALS });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startMoto(): Promise<void> {
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    env: process.env,
    detached: true,
    stdio: 'ignore',
  });
  await waitFor(async () => (await fetch(`${endpoint}/moto-api/`)).ok, { timeoutMs: 30_000, intervalMs: 250, what: 'moto_server to answer' });
}

function stopMoto(): void {
  try {
    if (moto?.pid) process.kill(-moto.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

/** dist/ as npm run build leaves it; built here when a piece is missing. */
async function ensureBuilt(): Promise<void> {
  if ([...LAMBDA_ZIPS, WEB_ARTIFACT].every((file) => existsSync(file))) return;
  succeeded(await runCommand('npm', ['run', 'build'], { cwd: repoRoot, env: process.env, timeoutMs: budget(300_000) }));
}

/** Variables shared by both modules: every service at moto, and the rehearsal switch. */
function rehearsalVariables(): Record<string, unknown> {
  const services = ['apigateway', 'autoscaling', 'cloudwatch', 'dynamodb', 'ec2', 'elbv2', 'iam', 'kms', 'lambda', 'logs', 's3', 'sns', 'sqs', 'ssm', 'sts'];
  return { aws_region: REGION, rehearsal: true, endpoints: Object.fromEntries(services.map((service) => [service, endpoint])) };
}

function backendVariables(): Record<string, unknown> {
  return {
    ...rehearsalVariables(),
    alarm_email: 'ops@example.com',
    lambda_package_dir: join(repoRoot, 'dist', 'lambdas'),
    table_deletion_protection: false,
    kms_key_deletion_window_days: 7,
  };
}

function frontendVariables(outputs: BackendOutputs): Record<string, unknown> {
  return {
    ...rehearsalVariables(),
    api_base_url: outputs.api_base_url,
    api_key_parameter_name: outputs.api_key_parameter_name,
    web_artifact_path: webArtifact,
    artifact_bucket_force_destroy: true,
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

async function apply(module: ModuleName, variables: Record<string, unknown>): Promise<void> {
  const vars = await varFile(module, variables);
  applied.add(module);
  succeeded(await terraform(session!, module, ['apply', '-auto-approve', '-input=false', vars], { timeoutMs: budget(240_000), env: awsEnv() }));
}

async function destroy(module: ModuleName, variables: Record<string, unknown>): Promise<void> {
  const vars = await varFile(module, variables);
  // The state is the one this run applied: reading every resource back first would only cost time.
  succeeded(await terraform(session!, module, ['destroy', '-auto-approve', '-input=false', '-refresh=false', vars], { timeoutMs: budget(180_000), env: awsEnv() }));
  applied.delete(module);
}

async function outputsOf<T>(module: ModuleName): Promise<T> {
  const result = succeeded(await terraform(session!, module, ['output', '-json'], { timeoutMs: budget(60_000), env: awsEnv() }));
  const raw = JSON.parse(result.stdout) as Record<string, { value: unknown }>;
  return Object.fromEntries(Object.entries(raw).map(([name, output]) => [name, output.value])) as T;
}

async function stateResourceCount(module: ModuleName): Promise<number> {
  const result = succeeded(await terraform(session!, module, ['state', 'list'], { timeoutMs: budget(60_000), env: awsEnv() }));
  return result.stdout.split('\n').filter(Boolean).length;
}

/** Why the rehearsal cannot run here: no terraform, no provider mirror or no moto_server. */
const missing = terraformUnavailableReason() ?? (findExecutable('moto_server') ? undefined : 'moto_server is not on PATH (pip install "moto[server]")');

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
    await Promise.all([startMoto(), ...(['terraform-backend', 'terraform-frontend'] as const).map(async (module) => succeeded(await terraformInit(ready, module, budget(120_000))))]);
  }, 360_000);

  afterAll(async () => {
    // A failed run still releases what it made, within what is left of the budget.
    try {
      if (session && applied.has('terraform-frontend') && backend) await destroy('terraform-frontend', frontendVariables(backend)).catch(() => undefined);
      if (session && applied.has('terraform-backend')) await destroy('terraform-backend', backendVariables()).catch(() => undefined);
    } finally {
      stopMoto();
      await removeTerraformSession(session);
      if (webArtifact !== WEB_ARTIFACT) await rm(join(webArtifact, '..'), { recursive: true, force: true });
    }
  }, 400_000);

  it('when the backend is applied, then the queue redrives to the DLQ, process-order reports batch item failures, the DLQ alarm notifies ops and the key is a SecureString', async () => {
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

    const ssm = new SSMClient(clientConfig());
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: backend.api_key_parameter_name, WithDecryption: true }));
    expect(Parameter?.Type).toBe('SecureString');
    // The key exists only in the parameter: no output carries it.
    const apiKey = Parameter?.Value ?? '';
    expect(apiKey.length).toBeGreaterThanOrEqual(20);
    expect(JSON.stringify(backend)).not.toContain(apiKey);
  }, 300_000);

  it('when the web tier is applied from the backend\'s outputs, then its launch template requires IMDSv2, encrypts its disk and carries the key parameter but not the key', async () => {
    expect(backend).toBeDefined();
    await apply('terraform-frontend', frontendVariables(backend!));
    frontend = await outputsOf<FrontendOutputs>('terraform-frontend');
    expect(frontend.artifact_object_key).toMatch(/^order-web\/[0-9a-f]{64}\.tar\.gz$/);

    // Read the launch template, not the instances: moto's instances show optional tokens and an unresolved image.
    const ec2 = new EC2Client(clientConfig());
    const { LaunchTemplateVersions = [] } = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: frontend.launch_template_id, Versions: ['$Latest'] }));
    const data = LaunchTemplateVersions[0]?.LaunchTemplateData;
    expect(data?.MetadataOptions?.HttpTokens).toBe('required');
    expect(data?.BlockDeviceMappings?.[0]?.Ebs).toMatchObject({ Encrypted: true, VolumeType: 'gp3' });
    expect(data?.KeyName).toBeUndefined();
    const userData = Buffer.from(data?.UserData ?? '', 'base64').toString('utf8');
    expect(userData).toContain(`API_KEY_PARAMETER=${backend!.api_key_parameter_name}`);
    expect(userData).toContain(`API_BASE_URL=${backend!.api_base_url}`);
    const { Parameter } = await new SSMClient(clientConfig()).send(new GetParameterCommand({ Name: backend!.api_key_parameter_name, WithDecryption: true }));
    expect(userData).not.toContain(Parameter?.Value ?? '<no key>');
  }, 300_000);

  it('when both are destroyed, then no queue, function, table, alarm, parameter or launch template is left', async () => {
    expect(backend).toBeDefined();
    // Side by side: the web tier holds only strings from the backend, no Terraform dependency.
    await Promise.all([destroy('terraform-frontend', frontendVariables(backend!)), destroy('terraform-backend', backendVariables())]);
    expect(await stateResourceCount('terraform-frontend')).toBe(0);
    expect(await stateResourceCount('terraform-backend')).toBe(0);

    const [queues, functions, tables, alarms, parameters, templates] = await Promise.all([
      new SQSClient(clientConfig()).send(new ListQueuesCommand({})),
      new LambdaClient(clientConfig()).send(new ListFunctionsCommand({})),
      new DynamoDBClient(clientConfig()).send(new ListTablesCommand({})),
      new CloudWatchClient(clientConfig()).send(new DescribeAlarmsCommand({})),
      new SSMClient(clientConfig()).send(new DescribeParametersCommand({})),
      new EC2Client(clientConfig()).send(new DescribeLaunchTemplatesCommand({})),
    ]);
    expect({
      queues: queues.QueueUrls ?? [],
      functions: functions.Functions ?? [],
      tables: tables.TableNames ?? [],
      alarms: alarms.MetricAlarms ?? [],
      parameters: parameters.Parameters ?? [],
      launchTemplates: templates.LaunchTemplates ?? [],
    }).toEqual({ queues: [], functions: [], tables: [], alarms: [], parameters: [], launchTemplates: [] });
  }, 400_000);
});
