// Terraform, CloudFormation and the local stack must agree on every setting they share. Each source
// is read as deployed or run (Terraform: the attribute, through its variable's default; CloudFormation:
// the property, through its parameter's default; the local stack: local/settings.ts).
import { join } from 'node:path';
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { apiRoutes, functions } from '../../platform/functions.js';
import { settings } from '../../platform/settings.js';
import { loadTemplate, resolveDefault, type CfnTemplate } from './cloudformation.js';
import { parseModule, type ParsedModule } from './policy.js';
import { repoRoot } from './terraform-cli.js';

type Values = Record<string, unknown>;

/** A Terraform attribute's value: a literal, or the default of the variable it names (var.x, var.x.y, var.x["k"].y). */
function terraformValue(module: ParsedModule, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const match = /^\$\{var\.(\w+)((?:\["[^"]+"\]|\.\w+)*)\}$/.exec(value);
  if (!match) return value;
  let resolved = module.variable[match[1]!]?.[0]?.default;
  for (const [, key, field] of match[2]!.matchAll(/\["([^"]+)"\]|\.(\w+)/g)) resolved = (resolved as Values | undefined)?.[key ?? field!];
  return resolved;
}

function terraformSettings(backend: ParsedModule, frontend: ParsedModule): Values {
  const block = (module: ParsedModule, type: string, name: string) => module.resource[type]?.[name]?.[0] ?? {};
  const v = (module: ParsedModule, value: unknown) => terraformValue(module, value);
  const orders = block(backend, 'aws_sqs_queue', 'orders');
  const dlq = block(backend, 'aws_sqs_queue', 'orders_dlq');
  const mapping = block(backend, 'aws_lambda_event_source_mapping', 'orders');
  const alarm = block(backend, 'aws_cloudwatch_metric_alarm', 'dlq_not_empty');
  const lambda = block(backend, 'aws_lambda_function', 'this');
  const table = block(backend, 'aws_dynamodb_table', 'orders');
  const plan = (block(backend, 'aws_api_gateway_usage_plan', 'web').throttle_settings as Values[])[0]!;
  const functions = v(backend, '${var.lambda_functions}') as Record<string, { memory_mb: number; timeout_seconds: number }>;
  const targetGroup = block(frontend, 'aws_lb_target_group', 'web');
  const redrive = /maxReceiveCount\s*=\s*(var\.\w+|\d+)/.exec(String(orders.redrive_policy))![1]!;
  const resources = backend.resource.aws_api_gateway_resource ?? {};
  const pathOf = (reference: unknown): string => {
    const name = /aws_api_gateway_resource\.(\w+)\.id/.exec(String(reference))?.[1];
    if (!name) return '';
    const resource = resources[name]![0]!;
    return `${pathOf(resource.parent_id)}/${String(resource.path_part)}`;
  };
  return {
    'queue.visibilityTimeoutSeconds': v(backend, orders.visibility_timeout_seconds),
    'queue.messageRetentionSeconds': v(backend, orders.message_retention_seconds),
    'queue.receiveWaitTimeSeconds': v(backend, orders.receive_wait_time_seconds),
    'queue.maxReceiveCount': v(backend, redrive.startsWith('var.') ? `\${${redrive}}` : Number(redrive)),
    'deadLetterQueue.messageRetentionSeconds': v(backend, dlq.message_retention_seconds),
    'eventSourceMapping.batchSize': v(backend, mapping.batch_size),
    'eventSourceMapping.maximumBatchingWindowSeconds': v(backend, mapping.maximum_batching_window_in_seconds),
    'eventSourceMapping.maximumConcurrency': v(backend, (mapping.scaling_config as Values[])[0]!.maximum_concurrency),
    'alarm.namespace': alarm.namespace,
    'alarm.metricName': alarm.metric_name,
    'alarm.statistic': alarm.statistic,
    'alarm.comparisonOperator': alarm.comparison_operator,
    'alarm.threshold': v(backend, alarm.threshold),
    'alarm.periodSeconds': v(backend, alarm.period),
    'alarm.evaluationPeriods': v(backend, alarm.evaluation_periods),
    'alarm.treatMissingData': alarm.treat_missing_data,
    'lambda.runtime': v(backend, lambda.runtime),
    'lambda.architecture': v(backend, String(lambda.architectures).replace(/^\$\{\[(.*)\]\}$/, '${$1}')),
    ...Object.fromEntries(
      Object.entries(functions).flatMap(([name, fn]) => [
        [`lambda.${name}.memoryMb`, fn.memory_mb],
        [`lambda.${name}.timeoutSeconds`, fn.timeout_seconds],
      ]),
    ),
    'table.partitionKey': v(backend, table.hash_key),
    'table.billingMode': table.billing_mode,
    'api.routes': Object.values(backend.resource.aws_api_gateway_method ?? {})
      .map(([method]) => `${String(method!.http_method)} ${pathOf(method!.resource_id)}`)
      .sort(),
    'api.stageName': v(backend, block(backend, 'aws_api_gateway_stage', 'orders').stage_name),
    'api.throttleRateLimit': v(backend, plan.rate_limit),
    'api.throttleBurstLimit': v(backend, plan.burst_limit),
    'web.appPort': v(frontend, targetGroup.port),
    'web.healthCheckPath': v(frontend, (targetGroup.health_check as Values[])[0]!.path),
  };
}

function cloudFormationSettings(backend: CfnTemplate, frontend: CfnTemplate): Values {
  const props = (template: CfnTemplate, id: string) => {
    const properties = template.Resources[id]?.Properties;
    if (!properties) throw new Error(`${id} is not in the template`);
    return properties;
  };
  const v = (template: CfnTemplate, value: unknown) => resolveDefault(template, value);
  const orders = props(backend, 'OrdersQueue');
  const mapping = props(backend, 'ProcessOrderEventSourceMapping');
  const alarm = props(backend, 'DeadLetterQueueAlarm');
  const table = props(backend, 'OrdersTable');
  const plan = props(backend, 'OrdersUsagePlan').Throttle as Values;
  const targetGroup = props(frontend, 'TargetGroup');
  const functions = { 'submit-order': 'SubmitOrderFunction', 'process-order': 'ProcessOrderFunction', 'get-order': 'GetOrderFunction' };
  const pathOf = (reference: unknown): string => {
    const id = (reference as { Ref?: string } | undefined)?.Ref;
    if (!id) return '';
    const resource = props(backend, id);
    return `${pathOf(resource.ParentId)}/${String(resource.PathPart)}`;
  };
  const routes = Object.entries(backend.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::ApiGateway::Method')
    .map(([, resource]) => `${String(resource.Properties!.HttpMethod)} ${pathOf(resource.Properties!.ResourceId)}`)
    .sort();
  const stage = Object.values(backend.Resources).find((resource) => resource.Type === 'AWS::ApiGateway::Stage')!.Properties!;
  const runtimes = new Set(Object.values(functions).map((id) => props(backend, id).Runtime));
  const architectures = new Set(Object.values(functions).map((id) => (props(backend, id).Architectures as string[]).join()));
  return {
    'queue.visibilityTimeoutSeconds': v(backend, orders.VisibilityTimeout),
    'queue.messageRetentionSeconds': v(backend, orders.MessageRetentionPeriod),
    'queue.receiveWaitTimeSeconds': v(backend, orders.ReceiveMessageWaitTimeSeconds),
    'queue.maxReceiveCount': v(backend, (orders.RedrivePolicy as Values).maxReceiveCount),
    'deadLetterQueue.messageRetentionSeconds': v(backend, props(backend, 'OrdersDeadLetterQueue').MessageRetentionPeriod),
    'eventSourceMapping.batchSize': v(backend, mapping.BatchSize),
    'eventSourceMapping.maximumBatchingWindowSeconds': v(backend, mapping.MaximumBatchingWindowInSeconds),
    'eventSourceMapping.maximumConcurrency': v(backend, (mapping.ScalingConfig as Values).MaximumConcurrency),
    'alarm.namespace': alarm.Namespace,
    'alarm.metricName': alarm.MetricName,
    'alarm.statistic': alarm.Statistic,
    'alarm.comparisonOperator': alarm.ComparisonOperator,
    'alarm.threshold': v(backend, alarm.Threshold),
    'alarm.periodSeconds': v(backend, alarm.Period),
    'alarm.evaluationPeriods': v(backend, alarm.EvaluationPeriods),
    'alarm.treatMissingData': alarm.TreatMissingData,
    'lambda.runtime': runtimes.size === 1 ? [...runtimes][0] : [...runtimes],
    'lambda.architecture': architectures.size === 1 ? [...architectures][0] : [...architectures],
    ...Object.fromEntries(
      Object.entries(functions).flatMap(([name, id]) => [
        [`lambda.${name}.memoryMb`, v(backend, props(backend, id).MemorySize)],
        [`lambda.${name}.timeoutSeconds`, v(backend, props(backend, id).Timeout)],
      ]),
    ),
    'table.partitionKey': (table.KeySchema as { AttributeName: string }[])[0]!.AttributeName,
    'table.billingMode': table.BillingMode,
    'api.routes': routes,
    'api.stageName': stage.StageName,
    'api.throttleRateLimit': plan.RateLimit,
    'api.throttleBurstLimit': plan.BurstLimit,
    'web.appPort': v(frontend, targetGroup.Port),
    'web.healthCheckPath': v(frontend, targetGroup.HealthCheckPath),
  };
}

function localSettings(source: typeof settings): Values {
  const mapping = functions['process-order'].trigger;
  return {
    'queue.visibilityTimeoutSeconds': source.queue.visibilityTimeoutSeconds,
    'queue.messageRetentionSeconds': source.queue.messageRetentionSeconds,
    'queue.receiveWaitTimeSeconds': source.queue.receiveWaitTimeSeconds,
    'queue.maxReceiveCount': source.queue.maxReceiveCount,
    'deadLetterQueue.messageRetentionSeconds': source.deadLetterQueue.messageRetentionSeconds,
    'eventSourceMapping.batchSize': mapping.batchSize,
    'eventSourceMapping.maximumBatchingWindowSeconds': mapping.maximumBatchingWindowSeconds,
    'eventSourceMapping.maximumConcurrency': mapping.maximumConcurrency,
    ...Object.fromEntries(Object.entries(source.alarm).map(([key, value]) => [`alarm.${key}`, value])),
    'lambda.runtime': source.lambda.runtime,
    'lambda.architecture': source.lambda.architecture,
    ...Object.fromEntries(
      Object.entries(functions).flatMap(([name, fn]) => [
        [`lambda.${name}.memoryMb`, fn.memoryMb],
        [`lambda.${name}.timeoutSeconds`, fn.timeoutSeconds],
      ]),
    ),
    'table.partitionKey': orderTable.partitionKey,
    'table.billingMode': source.table.billingMode,
    'api.routes': [...apiRoutes].sort(),
    'api.stageName': source.api.stageName,
    'api.throttleRateLimit': source.api.throttleRateLimit,
    'api.throttleBurstLimit': source.api.throttleBurstLimit,
    'web.appPort': source.web.appPort,
    'web.healthCheckPath': source.web.healthCheckPath,
  };
}

/** Every setting on which the three disagree, with what each says. */
function disagreements(sources: Record<string, Values>): string[] {
  const [reference, ...others] = Object.entries(sources);
  const keys = new Set(Object.values(sources).flatMap((values) => Object.keys(values)));
  return [...keys].filter((key) => others.some(([, values]) => JSON.stringify(values[key]) !== JSON.stringify(reference![1][key]))).map(
    (key) => `${key}: ${Object.entries(sources).map(([name, values]) => `${name}=${JSON.stringify(values[key])}`).join(', ')}`,
  );
}

describe('parity of Terraform, CloudFormation and the local stack', () => {
  let sources: Record<string, Values>;
  beforeAll(async () => {
    const [backend, frontend] = await Promise.all([parseModule(join(repoRoot, 'terraform-backend')), parseModule(join(repoRoot, 'terraform-frontend'))]);
    sources = {
      terraform: terraformSettings(backend, frontend),
      cloudformation: cloudFormationSettings(loadTemplate('backend'), loadTemplate('frontend')),
      local: localSettings(settings),
    };
  });

  it('when every shared setting is read from all three, then they agree', () => {
    expect(Object.keys(sources.local!).length).toBeGreaterThanOrEqual(30);
    for (const values of Object.values(sources)) expect(Object.values(values).every((value) => value !== undefined)).toBe(true);
    expect(disagreements(sources)).toEqual([]);
  });

  it('when any one value changes in any one place, then the parity fails naming it', () => {
    for (const name of Object.keys(sources)) {
      for (const key of Object.keys(sources[name]!)) {
        const changed = { ...sources, [name]: { ...sources[name], [key]: typeof sources[name]![key] === 'number' ? (sources[name]![key]) + 1 : `${JSON.stringify(sources[name]![key])}x` } };
        expect(disagreements(changed)).toEqual([expect.stringMatching(new RegExp(`^${key.replace(/[.$]/g, '\\$&')}:`))]);
      }
    }
  });

  it('when a value is changed in a Terraform file, then the parity reads the change', async () => {
    const backend = await parseModule(join(repoRoot, 'terraform-backend'));
    (backend.variable.max_receive_count![0] as { default: number }).default = 4;
    const frontend = await parseModule(join(repoRoot, 'terraform-frontend'));
    expect(disagreements({ ...sources, terraform: terraformSettings(backend, frontend) })).toEqual([expect.stringMatching(/^queue\.maxReceiveCount: terraform=4/)]);
  });
});
