// Terraform, CloudFormation and the local stack must agree on every setting they share. Each source
// is read as deployed or run (Terraform: the attribute, through its variable's default; CloudFormation:
// the property, through its parameter's default; the local stack: platform/settings.ts, the function
// declaration platform/functions.ts and the table the local stack creates from the order store).
// The functions compared are those the declaration names, so a new function is checked without this
// file learning its name, and one declared but deployed by neither tool fails here by name.
import { parse } from '@cdktf/hcl2json';
import { join } from 'node:path';
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { ORDER_EVENTS_EMAIL_FILTER, orderTableDefinition } from '../../local/resources.js';
import { apiRoutes, functions, type FunctionName, type FunctionSpec, type Trigger } from '../../platform/functions.js';
import { settings } from '../../platform/settings.js';
import { deployedFunctions, loadTemplate, resolveDefault, resourcesOfType, subWithDefaults, type CfnTemplate } from './cloudformation.js';
import { parseModule, type ParsedModule } from './policy.js';
import { CFN_REFS, CFN_TIMINGS_PARAMETERS, PENDING_BINDINGS, refOf, TERRAFORM_REFS } from './resource-refs.js';
import { repoRoot } from './terraform-cli.js';

type Values = Record<string, unknown>;
type Declaration = Readonly<Record<string, FunctionSpec>>;

/** What one tool deploys of a function, in the declaration's terms. */
interface DeployedFunction {
  memoryMb: unknown;
  timeoutSeconds: unknown;
  /** Variable -> the ResourceRef its value stands for (or a marker naming a value that is none). */
  environment: unknown;
  /** Every trigger found for the function, as the declaration would write it (schedules without `everySeconds`). */
  triggers: Values[];
}

/** The setting keys of each function: its memory, timeout, environment bindings and trigger, field by field. */
function functionSettings(deployed: Record<string, DeployedFunction>): Values {
  const values: Values = { 'lambda.functions': Object.keys(deployed).sort() };
  for (const [name, fn] of Object.entries(deployed)) {
    values[`lambda.${name}.memoryMb`] = fn.memoryMb;
    values[`lambda.${name}.timeoutSeconds`] = fn.timeoutSeconds;
    values[`lambda.${name}.environment`] = fn.environment;
    // One trigger a function, as declared; none or several show as such and disagree.
    values[`lambda.${name}.trigger`] = fn.triggers.length === 1 ? fn.triggers[0]!.type : fn.triggers.map((trigger) => trigger.type).join('+') || 'none';
    if (fn.triggers.length !== 1) continue;
    for (const [field, value] of Object.entries(fn.triggers[0]!)) if (field !== 'type') values[`lambda.${name}.trigger.${field}`] = value;
  }
  return values;
}

/** The declaration's trigger in the form both tools are read into. */
function declaredTrigger(trigger: Trigger): Values {
  if (trigger.type === 'api') return { type: 'api', routes: [...trigger.routes].sort() };
  if (trigger.type === 'schedule') return { type: 'schedule', expression: trigger.expression };
  return { ...trigger };
}

/** The table's keys, attributes and indexes, from a CreateTable-shaped description. */
function tableSettings(table: {
  partitionKey: unknown;
  attributes: { name: string; type: string }[];
  indexes: { name: unknown; partitionKey: string; sortKey: string | undefined; projectionType: unknown; nonKeyAttributes: unknown[] }[];
}): Values {
  const typed = (name: string | undefined) => (name === undefined ? null : `${name} (${table.attributes.find((attribute) => attribute.name === name)?.type ?? 'no attribute definition'})`);
  const values: Values = {
    'table.partitionKey': typed(String(table.partitionKey)),
    'table.attributes': table.attributes.map(({ name, type }) => `${name}:${type}`).sort(),
    'table.indexes': table.indexes.map((index) => String(index.name)).sort(),
  };
  for (const index of table.indexes) {
    values[`table.index.${String(index.name)}.partitionKey`] = typed(index.partitionKey);
    values[`table.index.${String(index.name)}.sortKey`] = typed(index.sortKey);
    values[`table.index.${String(index.name)}.projectionType`] = index.projectionType;
    values[`table.index.${String(index.name)}.nonKeyAttributes`] = [...index.nonKeyAttributes].map(String).sort();
  }
  return values;
}

// ---------------------------------------------------------------- Terraform

/** A module's locals, merged. */
function localsOf(module: ParsedModule): Values {
  return Object.assign({}, ...module.locals) as Values;
}

/** A Terraform attribute's value: a literal, the default of the variable it names (var.x, var.x.y, var.x["k"].y), or a literal local. */
function terraformValue(module: ParsedModule, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const local = /^\$\{local\.(\w+)\}$/.exec(value);
  if (local) return localsOf(module)[local[1]!];
  const match = /^\$\{var\.(\w+)((?:\["[^"]+"\]|\.\w+)*)\}$/.exec(value);
  if (!match) return value;
  let resolved = module.variable[match[1]!]?.[0]?.default;
  for (const [, key, field] of match[2]!.matchAll(/\["([^"]+)"\]|\.(\w+)/g)) resolved = (resolved as Values | undefined)?.[key ?? field!];
  return resolved;
}

/** A resource name as deployed with no prefix: "${var.name_prefix}${var.queue_name}" -> "orders". */
function terraformName(module: ParsedModule, value: unknown): string {
  return String(value)
    .replace('${var.name_prefix}', '')
    .replace(/\$\{var\.\w+\}/g, (reference) => String(terraformValue(module, reference)));
}

/** The function a reference names: `aws_lambda_function.this["advance-orders"].arn` -> advance-orders. */
function terraformFunctionOf(value: unknown): string | undefined {
  return /aws_lambda_function\.this\["([^"]+)"\]/.exec(String(value))?.[1];
}

/** `${jsonencode({ ... })}` parsed back into the value it encodes. */
async function jsonencoded(value: unknown): Promise<unknown> {
  const inner = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(String(value))?.[1];
  if (inner === undefined) return `<not a jsonencode(): ${String(value)}>`;
  return ((await parse('value.tf', `value = ${inner}\n`)) as { value: unknown }).value;
}

async function terraformSettings(backend: ParsedModule, frontend: ParsedModule): Promise<Values> {
  const blocks = (module: ParsedModule, type: string) => Object.entries(module.resource[type] ?? {}).map(([name, [block]]) => [name, block ?? {}] as const);
  const block = (module: ParsedModule, type: string, name: string) => module.resource[type]?.[name]?.[0] ?? {};
  const v = (module: ParsedModule, value: unknown) => terraformValue(module, value);
  const orders = block(backend, 'aws_sqs_queue', 'orders');
  const dlq = block(backend, 'aws_sqs_queue', 'orders_dlq');
  const alarm = block(backend, 'aws_cloudwatch_metric_alarm', 'dlq_not_empty');
  // The functions' alarms are one block each (for_each over the functions): their period and evaluation periods.
  const functionAlarm = block(backend, 'aws_cloudwatch_metric_alarm', 'lambda_errors');
  const lambda = block(backend, 'aws_lambda_function', 'this');
  const table = block(backend, 'aws_dynamodb_table', 'orders');
  const plan = (block(backend, 'aws_api_gateway_usage_plan', 'web').throttle_settings as Values[])[0]!;
  const targetGroup = block(frontend, 'aws_lb_target_group', 'web');
  const redrive = /maxReceiveCount\s*=\s*(var\.\w+|\d+)/.exec(String(orders.redrive_policy))![1]!;
  const pathOf = (reference: unknown): string => {
    const name = /aws_api_gateway_resource\.(\w+)\.id/.exec(String(reference))?.[1];
    if (!name) return '';
    const resource = block(backend, 'aws_api_gateway_resource', name);
    return `${pathOf(resource.parent_id)}/${String(resource.path_part)}`;
  };
  const routeOf = (method: Values) => `${String(method.http_method)} ${pathOf(method.resource_id)}`;

  // The functions are the keys of var.lambda_functions (aws_lambda_function.this is for_each over it).
  const sizes = (v(backend, '${var.lambda_functions}') ?? {}) as Record<string, { memory_mb: number; timeout_seconds: number }>;
  const environments = (localsOf(backend).lambda_environment ?? {}) as Record<string, Record<string, string>>;
  const triggers = new Map<string, Values[]>(Object.keys(sizes).map((name) => [name, []]));
  const addTrigger = (name: string | undefined, trigger: Values) => triggers.get(name ?? '')?.push(trigger);
  for (const [, integration] of blocks(backend, 'aws_api_gateway_integration')) {
    const method = block(backend, 'aws_api_gateway_method', /aws_api_gateway_method\.(\w+)\./.exec(String(integration.http_method))?.[1] ?? '');
    addTrigger(terraformFunctionOf(integration.uri), { type: 'api', routes: [routeOf(method)] });
  }
  for (const [, mapping] of blocks(backend, 'aws_lambda_event_source_mapping')) {
    const queue = block(backend, 'aws_sqs_queue', /aws_sqs_queue\.(\w+)\.arn/.exec(String(mapping.event_source_arn))?.[1] ?? '');
    addTrigger(terraformFunctionOf(mapping.function_name), {
      type: 'queue',
      queue: terraformName(backend, queue.name),
      batchSize: v(backend, mapping.batch_size),
      maximumBatchingWindowSeconds: v(backend, mapping.maximum_batching_window_in_seconds),
      maximumConcurrency: v(backend, (mapping.scaling_config as Values[] | undefined)?.[0]?.maximum_concurrency),
    });
  }
  for (const [, target] of blocks(backend, 'aws_cloudwatch_event_target')) {
    const ruleName = /aws_cloudwatch_event_rule\.(\w+)\.name/.exec(String(target.rule))?.[1] ?? '';
    const fn = terraformFunctionOf(target.arn);
    // A target without a permission for its rule is never invoked.
    const invokable = blocks(backend, 'aws_lambda_permission').some(
      ([, permission]) => permission.principal === 'events.amazonaws.com' && terraformFunctionOf(permission.function_name) === fn && permission.source_arn === `\${aws_cloudwatch_event_rule.${ruleName}.arn}`,
    );
    addTrigger(fn, { type: invokable ? 'schedule' : 'schedule without a lambda permission for its rule', expression: v(backend, block(backend, 'aws_cloudwatch_event_rule', ruleName).schedule_expression) });
  }
  const deployed: Record<string, DeployedFunction> = {};
  for (const [name, size] of Object.entries(sizes)) {
    const found = triggers.get(name)!;
    // API routes of one function are one trigger with several routes.
    const api = found.filter((trigger) => trigger.type === 'api');
    const merged = api.length > 1 ? [...found.filter((trigger) => trigger.type !== 'api'), { type: 'api', routes: api.flatMap((trigger) => trigger.routes as string[]).sort() }] : found;
    const environment = environments[name];
    deployed[name] = {
      memoryMb: size.memory_mb,
      timeoutSeconds: size.timeout_seconds,
      environment: environment && Object.fromEntries(Object.entries(environment).map(([variable, value]) => [variable, refOf(TERRAFORM_REFS, value)])),
      triggers: merged,
    };
  }

  const subscription = block(backend, 'aws_sns_topic_subscription', 'order_events_email');
  return {
    'queue.visibilityTimeoutSeconds': v(backend, orders.visibility_timeout_seconds),
    'queue.messageRetentionSeconds': v(backend, orders.message_retention_seconds),
    'queue.receiveWaitTimeSeconds': v(backend, orders.receive_wait_time_seconds),
    'queue.maxReceiveCount': v(backend, redrive.startsWith('var.') ? `\${${redrive}}` : Number(redrive)),
    'deadLetterQueue.messageRetentionSeconds': v(backend, dlq.message_retention_seconds),
    'alarm.namespace': alarm.namespace,
    'alarm.metricName': alarm.metric_name,
    'alarm.statistic': alarm.statistic,
    'alarm.comparisonOperator': alarm.comparison_operator,
    'alarm.threshold': v(backend, alarm.threshold),
    'alarm.periodSeconds': v(backend, alarm.period),
    'alarm.evaluationPeriods': v(backend, alarm.evaluation_periods),
    'alarm.treatMissingData': alarm.treat_missing_data,
    'functionAlarms.periodSeconds': v(backend, functionAlarm.period),
    'functionAlarms.evaluationPeriods': v(backend, functionAlarm.evaluation_periods),
    'lambda.runtime': v(backend, lambda.runtime),
    'lambda.architecture': v(backend, String(lambda.architectures).replace(/^\$\{\[(.*)\]\}$/, '${$1}')),
    ...functionSettings(deployed),
    'lifecycle.timingsSeconds': v(backend, '${var.order_timings_seconds}'),
    ...tableSettings({
      partitionKey: v(backend, table.hash_key),
      attributes: ((table.attribute as { name: string; type: string }[] | undefined) ?? []).map(({ name, type }) => ({ name: String(v(backend, name)), type })),
      indexes: ((table.global_secondary_index as Values[] | undefined) ?? []).map((index) => ({
        name: v(backend, index.name),
        partitionKey: String(v(backend, index.hash_key)),
        sortKey: index.range_key === undefined ? undefined : String(v(backend, index.range_key)),
        projectionType: index.projection_type,
        nonKeyAttributes: (index.non_key_attributes as unknown[] | undefined) ?? [],
      })),
    }),
    'table.billingMode': table.billing_mode,
    'orderEvents.emailFilterPolicy': await jsonencoded(subscription.filter_policy),
    'api.routes': Object.values(backend.resource.aws_api_gateway_method ?? {})
      .map(([method]) => routeOf(method!))
      .sort(),
    'api.stageName': v(backend, block(backend, 'aws_api_gateway_stage', 'orders').stage_name),
    'api.throttleRateLimit': v(backend, plan.rate_limit),
    'api.throttleBurstLimit': v(backend, plan.burst_limit),
    'web.appPort': v(frontend, targetGroup.port),
    'web.healthCheckPath': v(frontend, (targetGroup.health_check as Values[])[0]!.path),
  };
}

// ---------------------------------------------------------------- CloudFormation

function cloudFormationSettings(backend: CfnTemplate, frontend: CfnTemplate): Values {
  const props = (template: CfnTemplate, id: string) => {
    const properties = template.Resources[id]?.Properties;
    if (!properties) throw new Error(`${id} is not in the template`);
    return properties;
  };
  const v = (template: CfnTemplate, value: unknown) => resolveDefault(template, value);
  const refId = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;
  const getAttId = (value: unknown) => (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  const orders = props(backend, 'OrdersQueue');
  const alarm = props(backend, 'DeadLetterQueueAlarm');
  // One alarm resource a function and metric: all must share the period and evaluation periods.
  const functionAlarms = resourcesOfType(backend, 'AWS::CloudWatch::Alarm')
    .map(([, alarm]) => alarm.Properties!)
    .filter((alarm) => alarm.Namespace === 'AWS/Lambda');
  const shared = (values: unknown[]) => (new Set(values.map((value) => JSON.stringify(value))).size === 1 ? values[0] : values);
  const table = props(backend, 'OrdersTable');
  const plan = props(backend, 'OrdersUsagePlan').Throttle as Values;
  const targetGroup = props(frontend, 'TargetGroup');
  const byId = new Map([...deployedFunctions(backend)].map(([name, id]) => [id, name]));
  const pathOf = (reference: unknown): string => {
    const id = refId(reference);
    if (!id) return '';
    const resource = props(backend, id);
    return `${pathOf(resource.ParentId)}/${String(resource.PathPart)}`;
  };
  const methods = resourcesOfType(backend, 'AWS::ApiGateway::Method').map(([, resource]) => resource.Properties!);
  const routeOf = (method: Values) => `${String(method.HttpMethod)} ${pathOf(method.ResourceId)}`;

  const triggers = new Map<string, Values[]>([...byId.values()].map((name) => [name, []]));
  const addTrigger = (id: string | undefined, trigger: Values) => triggers.get(byId.get(id ?? '') ?? '')?.push(trigger);
  for (const method of methods) {
    const uri = ((method.Integration as Values | undefined)?.Uri as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'];
    addTrigger(/\$\{(\w+)\.Arn\}/.exec(uri ?? '')?.[1], { type: 'api', routes: [routeOf(method)] });
  }
  for (const [, { Properties: mapping = {} }] of resourcesOfType(backend, 'AWS::Lambda::EventSourceMapping')) {
    const queueId = getAttId(mapping.EventSourceArn);
    addTrigger(refId(mapping.FunctionName), {
      type: 'queue',
      queue: queueId ? subWithDefaults(backend, props(backend, queueId).QueueName) : String(JSON.stringify(mapping.EventSourceArn)),
      batchSize: v(backend, mapping.BatchSize),
      maximumBatchingWindowSeconds: v(backend, mapping.MaximumBatchingWindowInSeconds),
      maximumConcurrency: v(backend, (mapping.ScalingConfig as Values | undefined)?.MaximumConcurrency),
    });
  }
  for (const [ruleId, { Properties: rule = {} }] of resourcesOfType(backend, 'AWS::Events::Rule')) {
    for (const target of (rule.Targets as { Arn: unknown }[] | undefined) ?? []) {
      const fnId = getAttId(target.Arn);
      const invokable = resourcesOfType(backend, 'AWS::Lambda::Permission').some(
        ([, { Properties: permission = {} }]) => permission.Principal === 'events.amazonaws.com' && refId(permission.FunctionName) === fnId && getAttId(permission.SourceArn) === ruleId,
      );
      addTrigger(fnId, { type: invokable ? 'schedule' : 'schedule without a lambda permission for its rule', expression: v(backend, rule.ScheduleExpression) });
    }
  }
  const deployed: Record<string, DeployedFunction> = {};
  for (const [id, name] of byId) {
    const fn = props(backend, id);
    const found = triggers.get(name)!;
    const api = found.filter((trigger) => trigger.type === 'api');
    const merged = api.length > 1 ? [...found.filter((trigger) => trigger.type !== 'api'), { type: 'api', routes: api.flatMap((trigger) => trigger.routes as string[]).sort() }] : found;
    const variables = (fn.Environment as { Variables?: Values } | undefined)?.Variables ?? {};
    deployed[name] = {
      memoryMb: v(backend, fn.MemorySize),
      timeoutSeconds: v(backend, fn.Timeout),
      // POWERTOOLS_* are the same for every function (the CloudFormation test checks them).
      environment: Object.fromEntries(Object.entries(variables).filter(([variable]) => !variable.startsWith('POWERTOOLS_')).map(([variable, value]) => [variable, refOf(CFN_REFS, value)])),
      triggers: merged,
    };
  }

  const functionIds = [...byId.keys()];
  const runtimes = new Set(functionIds.map((id) => props(backend, id).Runtime));
  const architectures = new Set(functionIds.map((id) => (props(backend, id).Architectures as string[]).join()));
  const attributes = (table.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map(({ AttributeName, AttributeType }) => ({ name: AttributeName, type: AttributeType }));
  const keyOf = (schema: { AttributeName: string; KeyType: string }[], type: string) => schema.find((key) => key.KeyType === type)?.AttributeName;
  const stage = Object.values(backend.Resources).find((resource) => resource.Type === 'AWS::ApiGateway::Stage')!.Properties!;
  return {
    'queue.visibilityTimeoutSeconds': v(backend, orders.VisibilityTimeout),
    'queue.messageRetentionSeconds': v(backend, orders.MessageRetentionPeriod),
    'queue.receiveWaitTimeSeconds': v(backend, orders.ReceiveMessageWaitTimeSeconds),
    'queue.maxReceiveCount': v(backend, (orders.RedrivePolicy as Values).maxReceiveCount),
    'deadLetterQueue.messageRetentionSeconds': v(backend, props(backend, 'OrdersDeadLetterQueue').MessageRetentionPeriod),
    'alarm.namespace': alarm.Namespace,
    'alarm.metricName': alarm.MetricName,
    'alarm.statistic': alarm.Statistic,
    'alarm.comparisonOperator': alarm.ComparisonOperator,
    'alarm.threshold': v(backend, alarm.Threshold),
    'alarm.periodSeconds': v(backend, alarm.Period),
    'alarm.evaluationPeriods': v(backend, alarm.EvaluationPeriods),
    'alarm.treatMissingData': alarm.TreatMissingData,
    'functionAlarms.periodSeconds': shared(functionAlarms.map((alarm) => v(backend, alarm.Period))),
    'functionAlarms.evaluationPeriods': shared(functionAlarms.map((alarm) => v(backend, alarm.EvaluationPeriods))),
    'lambda.runtime': runtimes.size === 1 ? [...runtimes][0] : [...runtimes],
    'lambda.architecture': architectures.size === 1 ? [...architectures][0] : [...architectures],
    ...functionSettings(deployed),
    'lifecycle.timingsSeconds': Object.fromEntries(Object.entries(CFN_TIMINGS_PARAMETERS).map(([status, parameter]) => [status, Number(backend.Parameters[parameter]?.Default)])),
    ...tableSettings({
      partitionKey: keyOf(table.KeySchema as { AttributeName: string; KeyType: string }[], 'HASH'),
      attributes,
      indexes: ((table.GlobalSecondaryIndexes as Values[] | undefined) ?? []).map((index) => {
        const schema = index.KeySchema as { AttributeName: string; KeyType: string }[];
        const projection = index.Projection as { ProjectionType?: string; NonKeyAttributes?: string[] };
        return { name: index.IndexName, partitionKey: keyOf(schema, 'HASH')!, sortKey: keyOf(schema, 'RANGE'), projectionType: projection.ProjectionType, nonKeyAttributes: projection.NonKeyAttributes ?? [] };
      }),
    }),
    'table.billingMode': table.BillingMode,
    'orderEvents.emailFilterPolicy': props(backend, 'OrderEventsEmailSubscription').FilterPolicy,
    'api.routes': methods.map(routeOf).sort(),
    'api.stageName': stage.StageName,
    'api.throttleRateLimit': plan.RateLimit,
    'api.throttleBurstLimit': plan.BurstLimit,
    'web.appPort': v(frontend, targetGroup.Port),
    'web.healthCheckPath': v(frontend, targetGroup.HealthCheckPath),
  };
}

// ---------------------------------------------------------------- the local stack and the declaration

function localSettings(source: typeof settings, declaration: Declaration): Values {
  const table = orderTableDefinition(source.names.table);
  const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined, type: string) => schema?.find((key) => key.KeyType === type)?.AttributeName;
  return {
    'queue.visibilityTimeoutSeconds': source.queue.visibilityTimeoutSeconds,
    'queue.messageRetentionSeconds': source.queue.messageRetentionSeconds,
    'queue.receiveWaitTimeSeconds': source.queue.receiveWaitTimeSeconds,
    'queue.maxReceiveCount': source.queue.maxReceiveCount,
    'deadLetterQueue.messageRetentionSeconds': source.deadLetterQueue.messageRetentionSeconds,
    ...Object.fromEntries(Object.entries(source.alarm).map(([key, value]) => [`alarm.${key}`, value])),
    // The functions' error and throttle alarms share the alarms' period and evaluation periods.
    'functionAlarms.periodSeconds': source.alarm.periodSeconds,
    'functionAlarms.evaluationPeriods': source.alarm.evaluationPeriods,
    'lambda.runtime': source.lambda.runtime,
    'lambda.architecture': source.lambda.architecture,
    ...functionSettings(
      Object.fromEntries(
        Object.entries(declaration).map(([name, spec]) => [
          name,
          // The bindings both tools make ahead of the declaration are expected too (resource-refs.ts, PENDING_BINDINGS).
          { memoryMb: spec.memoryMb, timeoutSeconds: spec.timeoutSeconds, environment: { ...PENDING_BINDINGS[name as FunctionName], ...spec.environment }, triggers: [declaredTrigger(spec.trigger)] },
        ]),
      ),
    ),
    'lifecycle.timingsSeconds': source.lifecycle.timingsSeconds,
    ...tableSettings({
      partitionKey: keyOf(table.KeySchema, 'HASH'),
      attributes: (table.AttributeDefinitions ?? []).map(({ AttributeName, AttributeType }) => ({ name: AttributeName!, type: AttributeType! })),
      indexes: (table.GlobalSecondaryIndexes ?? []).map((index) => ({
        name: index.IndexName,
        partitionKey: keyOf(index.KeySchema, 'HASH')!,
        sortKey: keyOf(index.KeySchema, 'RANGE'),
        projectionType: index.Projection?.ProjectionType,
        nonKeyAttributes: index.Projection?.NonKeyAttributes ?? [],
      })),
    }),
    'table.billingMode': source.table.billingMode,
    'orderEvents.emailFilterPolicy': ORDER_EVENTS_EMAIL_FILTER,
    'api.routes': Object.values(declaration)
      .flatMap((spec) => (spec.trigger.type === 'api' ? spec.trigger.routes : []))
      .sort(),
    'api.stageName': source.api.stageName,
    'api.throttleRateLimit': source.api.throttleRateLimit,
    'api.throttleBurstLimit': source.api.throttleBurstLimit,
    'web.appPort': source.web.appPort,
    'web.healthCheckPath': source.web.healthCheckPath,
  };
}

// ---------------------------------------------------------------- comparing

/** JSON with object keys sorted: two values are the same setting whatever order a tool writes keys in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item as Values).sort(([a], [b]) => a.localeCompare(b))) : item,
  );
}

/** Every setting on which the sources disagree, with what each says. */
function disagreements(sources: Record<string, Values>): string[] {
  const [reference, ...others] = Object.entries(sources);
  const keys = new Set(Object.values(sources).flatMap((values) => Object.keys(values)));
  return [...keys]
    .filter((key) => others.some(([, values]) => canonical(values[key]) !== canonical(reference![1][key])))
    .map((key) => `${key}: ${Object.entries(sources).map(([name, values]) => `${name}=${canonical(values[key]) ?? 'undefined'}`).join(', ')}`);
}

/** Each declared function a tool does not deploy, and each deployed function nobody declared, said plainly. */
function deploymentGaps(declaration: Declaration, terraform: ParsedModule, cloudFormation: CfnTemplate): string[] {
  const declared = Object.keys(declaration);
  const inTerraform = Object.keys(terraformValue(terraform, '${var.lambda_functions}') ?? {});
  const inCloudFormation = [...deployedFunctions(cloudFormation).keys()];
  return [
    ...declared.filter((name) => !inTerraform.includes(name)).map((name) => `${name} is declared in platform/functions.ts, but terraform-backend does not deploy it (no "${name}" key in the default of var.lambda_functions)`),
    ...declared.filter((name) => !inCloudFormation.includes(name)).map((name) => `${name} is declared in platform/functions.ts, but cloudformation/backend.yaml does not deploy it (no AWS::Lambda::Function whose FunctionName is ${name})`),
    ...inTerraform.filter((name) => !declared.includes(name)).map((name) => `terraform-backend deploys ${name}, which platform/functions.ts does not declare`),
    ...inCloudFormation.filter((name) => !declared.includes(name)).map((name) => `cloudformation/backend.yaml deploys ${name}, which platform/functions.ts does not declare`),
  ];
}

const escape = (key: string) => key.replace(/[.$()[\]{}+*?|^\\]/g, '\\$&');

describe('parity of Terraform, CloudFormation and the local stack', () => {
  let backend: ParsedModule;
  let frontend: ParsedModule;
  let sources: Record<string, Values>;
  const readBackend = () => parseModule(join(repoRoot, 'terraform-backend'));
  beforeAll(async () => {
    [backend, frontend] = await Promise.all([readBackend(), parseModule(join(repoRoot, 'terraform-frontend'))]);
    sources = {
      terraform: await terraformSettings(backend, frontend),
      cloudformation: cloudFormationSettings(loadTemplate('backend'), loadTemplate('frontend')),
      local: localSettings(settings, functions),
    };
  });

  it('when the declaration is read, then Terraform and CloudFormation deploy every declared function and no other', () => {
    expect(deploymentGaps(functions, backend, loadTemplate('backend'))).toEqual([]);
  });

  it('when every shared setting is read from all three, then they agree', () => {
    const keys = Object.keys(sources.local!);
    console.log(`parity: ${keys.length} settings compared across ${Object.keys(sources).join(', ')} (${Object.keys(functions).length} functions)`);
    expect(keys.length).toBeGreaterThanOrEqual(55);
    // Every declared function contributes its memory, timeout, environment and trigger.
    for (const name of Object.keys(functions)) expect(keys).toEqual(expect.arrayContaining([`lambda.${name}.memoryMb`, `lambda.${name}.timeoutSeconds`, `lambda.${name}.environment`, `lambda.${name}.trigger`]));
    for (const [name, values] of Object.entries(sources)) expect({ name, unread: Object.keys(values).filter((key) => values[key] === undefined) }).toEqual({ name, unread: [] });
    expect(disagreements(sources)).toEqual([]);
    // What the comparison stands on, spelt out once.
    expect(sources.local!['lambda.advance-orders.trigger.expression']).toBe('rate(1 minute)');
    expect(sources.local!['table.index.due-orders.partitionKey']).toBe('due_shard (N)');
    expect(sources.local!['table.partitionKey']).toBe(`${orderTable.partitionKey} (S)`);
    expect(sources.local!['api.routes']).toEqual([...apiRoutes].sort());
  });

  it('when each function\'s variables are read, then every one is bound to the reference the declaration names, in both tools', () => {
    for (const name of Object.keys(functions)) {
      for (const source of ['terraform', 'cloudformation']) {
        const environment = sources[source]![`lambda.${name}.environment`] as Values;
        expect({ name, source, unknown: Object.values(environment).filter((ref) => String(ref).startsWith('<')) }).toEqual({ name, source, unknown: [] });
      }
    }
  });

  it('when a declared schedule is read, then its everySeconds (the local stack\'s clock) is the rate AWS runs', () => {
    const units: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };
    for (const [name, spec] of Object.entries(functions as Declaration)) {
      if (spec.trigger.type !== 'schedule') continue;
      const [, count, unit] = /^rate\((\d+) (\w+)\)$/.exec(spec.trigger.expression) ?? [];
      expect({ name, everySeconds: Number(count) * (units[unit ?? ''] ?? NaN) }).toEqual({ name, everySeconds: spec.trigger.everySeconds });
    }
  });

  it('when any one value changes in any one place, then the parity fails naming it', () => {
    for (const name of Object.keys(sources)) {
      for (const key of Object.keys(sources[name]!)) {
        const changed = { ...sources, [name]: { ...sources[name], [key]: typeof sources[name]![key] === 'number' ? (sources[name]![key]) + 1 : `${JSON.stringify(sources[name]![key])}x` } };
        expect(disagreements(changed)).toEqual([expect.stringMatching(new RegExp(`^${escape(key)}:`))]);
      }
    }
  });

  it('when a value is changed in a Terraform file, then the parity reads the change', async () => {
    const edits: [string, (module: ParsedModule) => void, RegExp][] = [
      ['max_receive_count', (module) => ((module.variable.max_receive_count![0] as { default: number }).default = 4), /^queue\.maxReceiveCount: terraform=4,/],
      [
        'the kitchen\'s timeout',
        (module) => ((module.variable.lambda_functions![0] as { default: Record<string, { timeout_seconds: number }> }).default['advance-orders']!.timeout_seconds = 61),
        /^lambda\.advance-orders\.timeoutSeconds: terraform=61,/,
      ],
      ['the schedule', (module) => ((module.variable.kitchen_schedule_expression![0] as { default: string }).default = 'rate(2 minutes)'), /^lambda\.advance-orders\.trigger\.expression: terraform="rate\(2 minutes\)",/],
      ['a timing', (module) => ((module.variable.order_timings_seconds![0] as { default: Record<string, number> }).default.READY = 30), /^lifecycle\.timingsSeconds: terraform=\{"PREPARING":600,"READY":30,"RECEIVED":60\},/],
      [
        'a binding',
        (module) => ((localsOf(module).lambda_environment as Record<string, Values>)['process-order']!.ORDER_TIMINGS = '${jsonencode(var.tags)}'),
        /^lambda\.process-order\.environment: terraform=.*"ORDER_TIMINGS":"<not a known reference/,
      ],
      [
        'the index projection',
        (module) => ((module.resource.aws_dynamodb_table!.orders![0]!.global_secondary_index as Values[])[0]!.non_key_attributes = ['customer_id', 'status', 'version']),
        /^table\.index\.due-orders\.nonKeyAttributes: terraform=\["customer_id","status","version"\],/,
      ],
      [
        'the rule\'s permission',
        (module) => delete module.resource.aws_lambda_permission!.kitchen_schedule,
        /^lambda\.advance-orders\.trigger: terraform="schedule without a lambda permission for its rule",/,
      ],
    ];
    for (const [what, edit, expected] of edits) {
      const edited = await readBackend();
      edit(edited);
      const found = disagreements({ ...sources, terraform: await terraformSettings(edited, frontend) });
      expect({ what, found }).toEqual({ what, found: [expect.stringMatching(expected)] });
    }
  });

  it('when a value is changed in the CloudFormation template, then the parity reads the change', () => {
    const template = loadTemplate('backend');
    (template.Resources.OrdersTable!.Properties!.AttributeDefinitions as { AttributeName: string; AttributeType: string }[])[1]!.AttributeType = 'S';
    template.Parameters.OrderPreparingSeconds!.Default = '900';
    const found = disagreements({ ...sources, cloudformation: cloudFormationSettings(template, loadTemplate('frontend')) });
    expect(found).toEqual([
      expect.stringMatching(/^lifecycle\.timingsSeconds: terraform=.*cloudformation=\{"PREPARING":900,/),
      expect.stringMatching(/^table\.attributes: .*cloudformation=\["due_at:S","due_shard:S","order_id:S"\]/),
      expect.stringMatching(/^table\.index\.due-orders\.partitionKey: .*cloudformation="due_shard \(S\)"/),
    ]);
  });

  it('when a function is declared but a tool does not deploy it, then the parity fails naming the function and the tool', async () => {
    // A new function, declared with no IaC yet.
    const declaration: Declaration = {
      ...functions,
      'refund-order': { description: 'Refunds an order.', entry: 'x', wiring: 'x', memoryMb: 128, timeoutSeconds: 5, environment: { TABLE_NAME: 'orders-table-name' }, trigger: { type: 'api', routes: ['POST /orders/{id}/refund'] } },
    };
    expect(deploymentGaps(declaration, backend, loadTemplate('backend'))).toEqual([
      'refund-order is declared in platform/functions.ts, but terraform-backend does not deploy it (no "refund-order" key in the default of var.lambda_functions)',
      'refund-order is declared in platform/functions.ts, but cloudformation/backend.yaml does not deploy it (no AWS::Lambda::Function whose FunctionName is refund-order)',
    ]);
    expect(disagreements({ ...sources, local: localSettings(settings, declaration) })).toEqual(expect.arrayContaining([expect.stringMatching(/^lambda\.functions: /), expect.stringMatching(/^lambda\.refund-order\.memoryMb: terraform=undefined, cloudformation=undefined, local=128/)]));

    // The kitchen taken out of one tool at a time.
    const withoutKitchen = await readBackend();
    delete (withoutKitchen.variable.lambda_functions![0] as { default: Values }).default['advance-orders'];
    const template = loadTemplate('backend');
    delete template.Resources.AdvanceOrdersFunction;
    expect(deploymentGaps(functions, withoutKitchen, template)).toEqual([
      'advance-orders is declared in platform/functions.ts, but terraform-backend does not deploy it (no "advance-orders" key in the default of var.lambda_functions)',
      'advance-orders is declared in platform/functions.ts, but cloudformation/backend.yaml does not deploy it (no AWS::Lambda::Function whose FunctionName is advance-orders)',
    ]);
    expect(disagreements({ ...sources, terraform: await terraformSettings(withoutKitchen, frontend) })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^lambda\.functions: terraform=\["get-order","process-order","submit-order"\]/), expect.stringMatching(/^lambda\.advance-orders\.timeoutSeconds: terraform=undefined/)]),
    );
  });
});
