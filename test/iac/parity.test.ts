// Terraform, CloudFormation and the local stack must agree on every setting they share. Each source
// is read as deployed or run (Terraform: the attribute, through its variable's default; CloudFormation:
// the property, through its parameter's default; the local stack: platform/settings.ts, the function
// declaration platform/functions.ts and the table the local stack creates from the order store).
// The functions compared are those the declaration names, so a new function is checked without this
// file learning its name, and one declared but deployed by neither tool fails here by name.
import { parse } from '@cdktf/hcl2json';
import { join } from 'node:path';
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { profiles } from '../../local/profiles.js';
import { ORDER_EVENTS_EMAIL_FILTER, orderTableDefinition, queueDefinitions } from '../../local/resources.js';
import { apiRoutes, functions, mappingSettings, type FunctionSpec, type Trigger } from '../../platform/functions.js';
import { QUEUE_TYPES, settings, type QueueType } from '../../platform/settings.js';
import { deployedFunctions, loadTemplate, resolveDefault, resolveWith, resourcesOfType, subWithDefaults, type CfnTemplate } from './cloudformation.js';
import { parseModule, type ParsedModule } from './policy.js';
import { CFN_REFS, CFN_TIMINGS_PARAMETERS, refOf, TERRAFORM_REFS } from './resource-refs.js';
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

/** How queues.tf picks the queue type's values: local.queue_type is this entry of local.queue_types. */
const TERRAFORM_QUEUE_TYPE_SELECTION = '${local.queue_types[var.queue_type]}';

/** A field of local.queue_type as it is with var.queue_type = queueType, or a marker when the selection is not the variable's. */
function terraformQueueTypeField(module: ParsedModule, field: string, queueType: QueueType): unknown {
  const locals = localsOf(module);
  if (locals.queue_type !== TERRAFORM_QUEUE_TYPE_SELECTION) return `<local.queue_type is ${JSON.stringify(locals.queue_type)}, not ${TERRAFORM_QUEUE_TYPE_SELECTION}>`;
  const entry = (locals.queue_types as Record<string, Values> | undefined)?.[queueType];
  return entry && field in entry ? terraformValue(module, entry[field], queueType) : `<no ${field} for ${queueType} in local.queue_types>`;
}

/**
 * A Terraform attribute's value: a literal, the default of the variable it names (var.x, var.x.y,
 * var.x["k"].y), a literal local, or a field of local.queue_type with var.queue_type = queueType.
 */
function terraformValue(module: ParsedModule, value: unknown, queueType: QueueType = settings.queue.type): unknown {
  if (typeof value !== 'string') return value;
  const typed = /^\$\{local\.queue_type\.(\w+)\}$/.exec(value);
  if (typed) return terraformQueueTypeField(module, typed[1]!, queueType);
  const local = /^\$\{local\.(\w+)\}$/.exec(value);
  if (local) return localsOf(module)[local[1]!];
  const match = /^\$\{var\.(\w+)((?:\["[^"]+"\]|\.\w+)*)\}$/.exec(value);
  if (!match) return value;
  let resolved = module.variable[match[1]!]?.[0]?.default;
  for (const [, key, field] of match[2]!.matchAll(/\["([^"]+)"\]|\.(\w+)/g)) resolved = (resolved as Values | undefined)?.[key ?? field!];
  return resolved;
}

/** A resource name as deployed with no prefix: "${var.name_prefix}${var.queue_name}${local.queue_type.name_suffix}" -> "orders" (or "orders.fifo"). */
function terraformName(module: ParsedModule, value: unknown, queueType: QueueType = settings.queue.type): string {
  return String(value)
    .replace('${var.name_prefix}', '')
    .replace(/\$\{(var\.\w+|local\.queue_type\.\w+)\}/g, (reference) => String(terraformValue(module, reference, queueType)));
}

/**
 * What the queue type decides, for each type: the two queues' names and types, their deduplication,
 * where the queue redrives to, and the event source mapping's batch and window ("none" where it is
 * left unset). A value a tool leaves out is what AWS then uses (a standard queue, no deduplication).
 */
function queueTypeKeys(queueType: QueueType, values: { queueName: unknown; deadLetterQueueName: unknown; queueFifo: unknown; deadLetterQueueFifo: unknown; contentBasedDeduplication: unknown; deadLetterQueueContentBasedDeduplication: unknown; redrivesTo: unknown; batchSize: unknown; maximumBatchingWindowSeconds: unknown }): Values {
  return Object.fromEntries(
    Object.entries({ ...values, maximumBatchingWindowSeconds: values.maximumBatchingWindowSeconds ?? 'none' }).map(([key, value]) => [`queueType.${queueType}.${key}`, value]),
  );
}

function terraformQueueTypeSettings(backend: ParsedModule, queueType: QueueType): Values {
  const block = (type: string, name: string) => backend.resource[type]?.[name]?.[0] ?? {};
  const v = (value: unknown) => terraformValue(backend, value, queueType);
  const orders = block('aws_sqs_queue', 'orders');
  const dlq = block('aws_sqs_queue', 'orders_dlq');
  const mapping = block('aws_lambda_event_source_mapping', 'orders');
  const target = /deadLetterTargetArn\s*=\s*aws_sqs_queue\.(\w+)\.arn/.exec(String(orders.redrive_policy))?.[1];
  return queueTypeKeys(queueType, {
    queueName: terraformName(backend, orders.name, queueType),
    deadLetterQueueName: terraformName(backend, dlq.name, queueType),
    queueFifo: v(orders.fifo_queue) ?? false,
    deadLetterQueueFifo: v(dlq.fifo_queue) ?? false,
    contentBasedDeduplication: v(orders.content_based_deduplication) ?? false,
    deadLetterQueueContentBasedDeduplication: v(dlq.content_based_deduplication) ?? false,
    redrivesTo: target ? terraformName(backend, block('aws_sqs_queue', target).name, queueType) : `<no deadLetterTargetArn in ${String(orders.redrive_policy)}>`,
    batchSize: v(mapping.batch_size),
    maximumBatchingWindowSeconds: v(mapping.maximum_batching_window_in_seconds),
  });
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
    'queue.type': v(backend, '${var.queue_type}'),
    ...(Object.assign({}, ...QUEUE_TYPES.map((queueType) => terraformQueueTypeSettings(backend, queueType))) as Values),
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
  const v = (template: CfnTemplate, value: unknown) => resolveWith(template, value);
  const refId = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;
  const getAttId = (value: unknown) => (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  const orders = props(backend, 'OrdersQueue');
  /** The queue type's keys, with the template deployed with QueueType = queueType. */
  const queueTypeSettings = (queueType: QueueType): Values => {
    const resolved = (id: string) => resolveWith(backend, props(backend, id), { QueueType: queueType }) as Values;
    const [queue, dlq, mapping] = [resolved('OrdersQueue'), resolved('OrdersDeadLetterQueue'), resolved('ProcessOrderEventSourceMapping')];
    const target = getAttId((queue.RedrivePolicy as Values | undefined)?.deadLetterTargetArn);
    return queueTypeKeys(queueType, {
      queueName: queue.QueueName,
      deadLetterQueueName: dlq.QueueName,
      queueFifo: queue.FifoQueue ?? false,
      deadLetterQueueFifo: dlq.FifoQueue ?? false,
      contentBasedDeduplication: queue.ContentBasedDeduplication ?? false,
      deadLetterQueueContentBasedDeduplication: dlq.ContentBasedDeduplication ?? false,
      redrivesTo: target ? resolved(target).QueueName : `<no GetAtt in ${JSON.stringify(queue.RedrivePolicy)}>`,
      batchSize: mapping.BatchSize,
      maximumBatchingWindowSeconds: mapping.MaximumBatchingWindowInSeconds,
    });
  };
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
    'queue.type': backend.Parameters.QueueType?.Default,
    ...(Object.assign({}, ...QUEUE_TYPES.map(queueTypeSettings)) as Values),
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
  const processOrder = declaration['process-order']!.trigger;
  /** The queues as the local stack creates them with QUEUE_TYPE = queueType (createResources redrives the one to the other), and the mapping it polls with. */
  const queueTypeSettings = (queueType: QueueType): Values => {
    const { queue, deadLetterQueue } = queueDefinitions(profiles.default, queueType);
    const mapping = processOrder.type === 'queue' ? mappingSettings(processOrder, queueType) : undefined;
    return queueTypeKeys(queueType, {
      queueName: queue.name,
      deadLetterQueueName: deadLetterQueue.name,
      queueFifo: queue.attributes.FifoQueue === 'true',
      deadLetterQueueFifo: deadLetterQueue.attributes.FifoQueue === 'true',
      contentBasedDeduplication: queue.attributes.ContentBasedDeduplication === 'true',
      deadLetterQueueContentBasedDeduplication: deadLetterQueue.attributes.ContentBasedDeduplication === 'true',
      redrivesTo: deadLetterQueue.name,
      batchSize: mapping?.batchSize ?? '<process-order has no queue trigger>',
      maximumBatchingWindowSeconds: mapping ? mapping.maximumBatchingWindowSeconds : '<process-order has no queue trigger>',
    });
  };
  return {
    'queue.type': source.queue.type,
    ...(Object.assign({}, ...QUEUE_TYPES.map(queueTypeSettings)) as Values),
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
          { memoryMb: spec.memoryMb, timeoutSeconds: spec.timeoutSeconds, environment: spec.environment, triggers: [declaredTrigger(spec.trigger)] },
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


// ---------------------------------------------------------------- what only the two tools share
//
// Encryption, log retention, alarms, security groups, WAF, tracing and API logging exist in Terraform
// and CloudFormation but not in the local stack: these two are compared with each other, by the same
// `disagreements`. Alarms and security groups are named by what they are, not by either tool's ids.

const OPS = 'ops-alarms';

/** The alarms each tool must have: the queue's two, the API's, each declared function's two, the web tier's two. */
function alarmNames(declaration: Declaration): string[] {
  return ['dlq', 'backlog', 'api-5xx-rate', ...Object.keys(declaration).flatMap((name) => [`${name}-errors`, `${name}-throttles`]), 'web-5xx', 'web-unhealthy-hosts'];
}

function alarmValues(name: string, alarm: Values | undefined): Values {
  const keys = ['metric', 'statistic', 'comparison', 'threshold', 'periodSeconds', 'evaluationPeriods', 'treatMissingData', 'actions', 'okActions'];
  return Object.fromEntries(keys.map((key) => [`alarm.${name}.${key}`, alarm === undefined ? `<no ${name} alarm>` : alarm[key]]));
}

function terraformIacSettings(backend: ParsedModule, frontend: ParsedModule): Values {
  const block = (module: ParsedModule, type: string, name: string) => module.resource[type]?.[name]?.[0];
  const v = (module: ParsedModule, value: unknown) => terraformValue(module, value);
  const enabledBy = (module: ParsedModule, count: unknown) => {
    if (count === undefined) return true;
    const variable = /^\$\{var\.(\w+) \? 1 : 0\}$/.exec(JSON.stringify(count).replace(/^"|"$/g, ''))?.[1];
    return variable ? v(module, `\${var.${variable}}`) === true : `<count ${JSON.stringify(count)}>`;
  };
  const topic = (value: unknown) => (value === '${aws_sns_topic.ops_alarms.arn}' || value === '${var.ops_alarms_topic_arn}' ? OPS : String(value));
  const actions = (value: unknown) => (Array.isArray(value) ? value.map(topic) : `<${JSON.stringify(value)}>`);
  const alarm = (module: ParsedModule, raw: Values | undefined, dimensionsOk = true): Values | undefined => {
    if (!raw) return undefined;
    const queries = (raw.metric_query as Values[] | undefined) ?? [];
    const metrics = queries.flatMap((query) => ((query.metric as Values[] | undefined) ?? []).map((metric): Values => ({ ...metric, id: query.id })));
    return {
      metric: queries.length > 0 ? `math ${String(queries.find((query) => query.return_data === true)?.expression)} of ${metrics.map((metric) => `${String(metric.id)}=${String(metric.namespace)}/${String(metric.metric_name)}`).join(', ')}` : `${String(raw.namespace)}/${String(raw.metric_name)}${dimensionsOk ? '' : ' (on another resource)'}`,
      statistic: queries.length > 0 ? [...new Set(metrics.map((metric) => metric.stat))].join() : raw.statistic,
      comparison: raw.comparison_operator,
      threshold: v(module, raw.threshold),
      periodSeconds: queries.length > 0 ? v(module, metrics[0]?.period) : v(module, raw.period),
      evaluationPeriods: v(module, raw.evaluation_periods),
      treatMissingData: raw.treat_missing_data,
      actions: actions(raw.alarm_actions),
      okActions: actions(raw.ok_actions),
    };
  };
  const functionNames = Object.keys((v(backend, '${var.lambda_functions}') ?? {}));
  const perFunction = (name: string) => {
    const raw = block(backend, 'aws_cloudwatch_metric_alarm', name);
    // for_each over the functions: each one has it; a for_each over a literal map, only its keys.
    const covered = raw?.for_each === '${var.lambda_functions}' ? functionNames : Object.keys((raw?.for_each ?? {}));
    return { raw, covered, dimensionsOk: (raw?.dimensions as Values | undefined)?.FunctionName === '${aws_lambda_function.this[each.key].function_name}' };
  };
  const errors = perFunction('lambda_errors');
  const throttles = perFunction('lambda_throttles');
  const alarms: Record<string, Values | undefined> = {
    dlq: alarm(backend, block(backend, 'aws_cloudwatch_metric_alarm', 'dlq_not_empty')),
    backlog: alarm(backend, block(backend, 'aws_cloudwatch_metric_alarm', 'orders_backlog')),
    'api-5xx-rate': alarm(backend, block(backend, 'aws_cloudwatch_metric_alarm', 'api_5xx_rate')),
    'web-5xx': alarm(frontend, block(frontend, 'aws_cloudwatch_metric_alarm', 'alb_5xx')),
    'web-unhealthy-hosts': alarm(frontend, block(frontend, 'aws_cloudwatch_metric_alarm', 'unhealthy_hosts')),
  };
  for (const name of errors.covered) alarms[`${name}-errors`] = alarm(backend, errors.raw, errors.dimensionsOk);
  for (const name of throttles.covered) alarms[`${name}-throttles`] = alarm(backend, throttles.raw, throttles.dimensionsOk);

  // Security groups: every rule of a group, as "tcp 3000-3000 to sg:instance"; no rule at all is "none"
  // (Terraform removes AWS's default allow-all egress from the groups it creates).
  const groupOf = (value: unknown) => /aws_security_group\.(\w+)\./.exec(String(value))?.[1] ?? String(value);
  const rules = (direction: 'ingress' | 'egress', group: string): string[] => {
    const found: string[] = [];
    for (const [name, [rule]] of Object.entries(frontend.resource[`aws_vpc_security_group_${direction}_rule`] ?? {})) {
      if (groupOf(rule!.security_group_id) !== group) continue;
      const peer = rule!.referenced_security_group_id !== undefined ? `sg:${groupOf(rule!.referenced_security_group_id)}` : rule!.cidr_ipv4;
      // The load balancer's listener rules: for_each over listeners x allowed CIDRs; no certificate by default, so port 80.
      if (name === 'alb' && rule!.for_each !== undefined) {
        for (const cidr of (v(frontend, '${var.allowed_cidrs}') as string[] | undefined) ?? []) found.push(`tcp 80-80 ${direction === 'ingress' ? 'from' : 'to'} ${cidr}`);
        continue;
      }
      found.push(`${String(rule!.ip_protocol)} ${String(v(frontend, rule!.from_port))}-${String(v(frontend, rule!.to_port))} ${direction === 'ingress' ? 'from' : 'to'} ${String(v(frontend, peer))}`);
    }
    return found.length > 0 ? found.sort() : ['none'];
  };
  const lambdaGroups = Object.keys((v(backend, '${var.lambda_functions}') ?? {}));
  const stage = block(backend, 'aws_api_gateway_stage', 'orders') ?? {};
  const settingsBlock = ((block(backend, 'aws_api_gateway_method_settings', 'all')?.settings as Values[] | undefined) ?? [])[0] ?? {};
  const launchTemplate = block(frontend, 'aws_launch_template', 'web') ?? {};
  const wafRules = (module: ParsedModule, acl: Values | undefined) =>
    ((acl?.rule as Values[] | undefined) ?? []).map((rule) => {
      const statement = ((rule.statement as Values[])[0] ?? {});
      const managed = (statement.managed_rule_group_statement as Values[] | undefined)?.[0];
      const rate = (statement.rate_based_statement as Values[] | undefined)?.[0];
      return `${String(rule.name)}: ${managed ? `${String(managed.vendor_name)}/${String(managed.name)}` : `rate ${String(v(module, rate?.limit))} per 5 min by ${String(rate?.aggregate_key_type)}`}`;
    });
  const bucketEncryption = (name: string) =>
    ((block(frontend, 'aws_s3_bucket_server_side_encryption_configuration', name)?.rule as Values[] | undefined)?.[0]?.apply_server_side_encryption_by_default as Values[] | undefined)?.[0]?.sse_algorithm ?? 'none';
  const topicKey = (name: string) => (String(block(backend, 'aws_sns_topic', name)?.kms_master_key_id).startsWith('${aws_kms_key.') ? 'customer-managed KMS key' : 'none');
  const queueEncryption = (name: string) => {
    const queue = block(backend, 'aws_sqs_queue', name) ?? {};
    return queue.sqs_managed_sse_enabled === true ? 'SSE-SQS' : queue.kms_master_key_id !== undefined ? 'KMS' : 'none';
  };
  return {
    'encryption.queue.orders': queueEncryption('orders'),
    'encryption.queue.orders-dlq': queueEncryption('orders_dlq'),
    'encryption.table.orders': ((block(backend, 'aws_dynamodb_table', 'orders')?.server_side_encryption as Values[] | undefined)?.[0]?.enabled === true ? 'KMS (AWS-managed)' : 'none'),
    'encryption.topic.ops-alarms': topicKey('ops_alarms'),
    'encryption.topic.order-events': topicKey('order_events'),
    'encryption.bucket.artifacts': bucketEncryption('artifacts'),
    'encryption.bucket.access-logs': bucketEncryption('access_logs'),
    'encryption.volume.root': String((((launchTemplate.block_device_mappings as Values[] | undefined)?.[0]?.ebs as Values[] | undefined)?.[0]?.encrypted)) === 'true',
    ...Object.fromEntries(lambdaGroups.map((name) => [`logRetention.lambda.${name}`, v(backend, block(backend, 'aws_cloudwatch_log_group', 'lambda')?.retention_in_days)])),
    'logRetention.api.access': v(backend, block(backend, 'aws_cloudwatch_log_group', 'api_access')?.retention_in_days),
    'logRetention.api.execution': v(backend, block(backend, 'aws_cloudwatch_log_group', 'api_execution')?.retention_in_days),
    'logRetention.web.accessLogs': v(frontend, ((block(frontend, 'aws_s3_bucket_lifecycle_configuration', 'access_logs')?.rule as Values[] | undefined)?.[0]?.expiration as Values[] | undefined)?.[0]?.days),
    ...(Object.assign({}, ...alarmNames(functions).map((name) => alarmValues(name, alarms[name]))) as Values),
    'securityGroup.alb.ingress': rules('ingress', 'alb'),
    'securityGroup.alb.egress': rules('egress', 'alb'),
    'securityGroup.instance.ingress': rules('ingress', 'instance'),
    'securityGroup.instance.egress': rules('egress', 'instance'),
    'waf.api.enabled': enabledBy(backend, block(backend, 'aws_wafv2_web_acl', 'api')?.count),
    'waf.api.associated': enabledBy(backend, block(backend, 'aws_wafv2_web_acl_association', 'api')?.count),
    'waf.api.rules': wafRules(backend, block(backend, 'aws_wafv2_web_acl', 'api')),
    'waf.web.enabled': enabledBy(frontend, block(frontend, 'aws_wafv2_web_acl', 'web')?.count),
    'waf.web.associated': enabledBy(frontend, block(frontend, 'aws_wafv2_web_acl_association', 'web')?.count),
    'waf.web.rules': wafRules(frontend, block(frontend, 'aws_wafv2_web_acl', 'web')),
    'tracing.lambda': ((block(backend, 'aws_lambda_function', 'this')?.tracing_config as Values[] | undefined)?.[0]?.mode ?? 'none'),
    'tracing.apiStage': stage.xray_tracing_enabled === true,
    'apiLogging.level': v(backend, settingsBlock.logging_level),
    'apiLogging.dataTrace': settingsBlock.data_trace_enabled,
    'apiLogging.metrics': settingsBlock.metrics_enabled,
    'apiLogging.accessLogFields': ((stage.access_log_settings as Values[] | undefined)?.[0]?.format) ?? 'none',
    'web.instancePublicIp': String((launchTemplate.network_interfaces as Values[] | undefined)?.[0]?.associate_public_ip_address) === 'true',
    'web.instanceSubnets': block(frontend, 'aws_autoscaling_group', 'web')?.vpc_zone_identifier === '${local.private_subnet_ids}' ? 'private' : String(block(frontend, 'aws_autoscaling_group', 'web')?.vpc_zone_identifier),
    'web.natGatewayPerZone': v(frontend, '${var.nat_gateway_per_zone}'),
    'web.interfaceEndpoints': v(frontend, '${var.vpc_interface_endpoints}'),
  };
}

function cloudFormationIacSettings(backend: CfnTemplate, frontend: CfnTemplate): Values {
  const v = (template: CfnTemplate, value: unknown) => resolveDefault(template, value);
  const props = (template: CfnTemplate, id: string) => template.Resources[id]?.Properties;
  const enabledBy = (template: CfnTemplate, id: string) => {
    const condition = template.Resources[id]?.Condition;
    if (condition === undefined) return template.Resources[id] !== undefined;
    const [left, right] = ((template.Conditions?.[condition] as { 'Fn::Equals'?: [unknown, unknown] } | undefined)?.['Fn::Equals'] ?? []) as [unknown, unknown];
    return String(v(template, left)) === String(right);
  };
  const topic = (value: unknown) => {
    const id = (value as { Ref?: string }).Ref;
    return id === 'OpsAlarmsTopic' || id === 'OpsAlarmsTopicArn' ? OPS : JSON.stringify(value);
  };
  const actions = (value: unknown) => (Array.isArray(value) ? value.map(topic) : `<${JSON.stringify(value)}>`);
  const alarm = (template: CfnTemplate, raw: Values | undefined): Values | undefined => {
    if (!raw) return undefined;
    const metrics = (raw.Metrics as Values[] | undefined) ?? [];
    const stats = metrics.filter((metric) => metric.MetricStat).map((metric): Values => ({ id: metric.Id, ...(metric.MetricStat as Values) }));
    return {
      metric: metrics.length > 0 ? `math ${String(metrics.find((metric) => metric.ReturnData === true)?.Expression)} of ${stats.map((stat) => `${String(stat.id)}=${String((stat.Metric as Values).Namespace)}/${String((stat.Metric as Values).MetricName)}`).join(', ')}` : `${String(raw.Namespace)}/${String(raw.MetricName)}`,
      statistic: metrics.length > 0 ? [...new Set(stats.map((stat) => stat.Stat))].join() : raw.Statistic,
      comparison: raw.ComparisonOperator,
      threshold: Number(v(template, raw.Threshold)),
      periodSeconds: metrics.length > 0 ? v(template, stats[0]?.Period) : v(template, raw.Period),
      evaluationPeriods: v(template, raw.EvaluationPeriods),
      treatMissingData: raw.TreatMissingData,
      actions: actions(raw.AlarmActions),
      okActions: actions(raw.OKActions),
    };
  };
  const byFunction = new Map([...deployedFunctions(backend)].map(([name, id]) => [id, name]));
  const alarms: Record<string, Values | undefined> = {
    dlq: alarm(backend, props(backend, 'DeadLetterQueueAlarm')),
    backlog: alarm(backend, props(backend, 'OldestOrderAgeAlarm')),
    'api-5xx-rate': alarm(backend, props(backend, 'Api5xxRateAlarm')),
    'web-5xx': alarm(frontend, props(frontend, 'LoadBalancer5xxAlarm')),
    'web-unhealthy-hosts': alarm(frontend, props(frontend, 'UnhealthyHostsAlarm')),
  };
  // One resource a function and metric, found by the function its dimension names.
  for (const [, resource] of resourcesOfType(backend, 'AWS::CloudWatch::Alarm')) {
    const p = resource.Properties!;
    if (p.Namespace !== 'AWS/Lambda') continue;
    const dimensions = p.Dimensions as { Name: string; Value: { Ref?: string } }[];
    const name = byFunction.get(dimensions.find((dimension) => dimension.Name === 'FunctionName')?.Value.Ref ?? '');
    if (name) alarms[`${name}-${String(p.MetricName).toLowerCase()}`] = alarm(backend, p);
  }
  const groupName: Record<string, string> = { LoadBalancerSecurityGroup: 'alb', InstanceSecurityGroup: 'instance', EndpointSecurityGroup: 'endpoints' };
  const describe = (template: CfnTemplate, rule: Values, direction: 'ingress' | 'egress') => {
    const peerId = (rule.SourceSecurityGroupId ?? rule.DestinationSecurityGroupId) as { Ref?: string } | undefined;
    const peer = peerId ? `sg:${groupName[peerId.Ref ?? ''] ?? String(peerId.Ref)}` : String(v(template, rule.CidrIp));
    return `${String(rule.IpProtocol)} ${String(v(template, rule.FromPort))}-${String(v(template, rule.ToPort))} ${direction === 'ingress' ? 'from' : 'to'} ${peer}`;
  };
  const rules = (direction: 'ingress' | 'egress', group: string): string[] => {
    const id = Object.entries(groupName).find(([, name]) => name === group)![0];
    const inlineKey = direction === 'ingress' ? 'SecurityGroupIngress' : 'SecurityGroupEgress';
    const inline = props(frontend, id)?.[inlineKey] as unknown[] | undefined;
    // Fn::If: the branch taken with the parameters' defaults (no certificate: no 443).
    const taken = (inline ?? []).flatMap((rule): Values[] => {
      const choice = (rule as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If'];
      const value = (choice ? (choice[0] === 'HasCertificate' ? choice[2] : choice[1]) : rule) as Values;
      return value.Ref === 'AWS::NoValue' ? [] : [value];
    });
    const standalone = resourcesOfType(frontend, direction === 'ingress' ? 'AWS::EC2::SecurityGroupIngress' : 'AWS::EC2::SecurityGroupEgress')
      .map(([, resource]) => resource.Properties!)
      .filter((rule) => (rule.GroupId as { Ref?: string }).Ref === id);
    const found = [...taken, ...standalone].map((rule) => describe(frontend, rule, direction));
    // CloudFormation keeps AWS's default allow-all egress unless the group itself lists egress rules.
    if (direction === 'egress' && inline === undefined) found.push('-1 all to 0.0.0.0/0 (the default rule)');
    return found.length > 0 ? found.sort() : ['none'];
  };
  const wafRules = (template: CfnTemplate, id: string) =>
    ((props(template, id)?.Rules as Values[] | undefined) ?? []).map((rule) => {
      const statement = rule.Statement as Values;
      const managed = statement.ManagedRuleGroupStatement as Values | undefined;
      const rate = statement.RateBasedStatement as Values | undefined;
      return `${String(rule.Name)}: ${managed ? `${String(managed.VendorName)}/${String(managed.Name)}` : `rate ${String(v(template, rate?.Limit))} per 5 min by ${String(rate?.AggregateKeyType)}`}`;
    });
  const bucketEncryption = (id: string) =>
    ((props(frontend, id)?.BucketEncryption as { ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }[] } | undefined)?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm ?? 'none');
  const topicKey = (id: string) => ((props(backend, id)?.KmsMasterKeyId as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0] !== undefined && backend.Resources[(props(backend, id)!.KmsMasterKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]]?.Type === 'AWS::KMS::Key' ? 'customer-managed KMS key' : 'none');
  const queueEncryption = (id: string) => {
    const queue = props(backend, id) ?? {};
    return queue.SqsManagedSseEnabled === true ? 'SSE-SQS' : queue.KmsMasterKeyId !== undefined ? 'KMS' : 'none';
  };
  const functionIds = [...byFunction.keys()];
  const tracing = new Set(functionIds.map((id) => (props(backend, id)?.TracingConfig as Values | undefined)?.Mode ?? 'none'));
  const stage = props(backend, 'OrdersApiStage') ?? {};
  const method = ((stage.MethodSettings as Values[] | undefined) ?? [])[0] ?? {};
  const data = (props(frontend, 'LaunchTemplate')?.LaunchTemplateData ?? {}) as { NetworkInterfaces?: Values[]; BlockDeviceMappings?: { Ebs?: Values }[] };
  const zones = (props(frontend, 'WebServerGroup')?.VPCZoneIdentifier as { 'Fn::If'?: [string, { Ref: string }[], unknown] } | undefined)?.['Fn::If']?.[1];
  const logGroup = (id: string | undefined) => (id ? v(backend, props(backend, id)?.RetentionInDays) : undefined);
  const format = stage.AccessLogSetting as { Format?: string } | undefined;
  return {
    'encryption.queue.orders': queueEncryption('OrdersQueue'),
    'encryption.queue.orders-dlq': queueEncryption('OrdersDeadLetterQueue'),
    'encryption.table.orders': (props(backend, 'OrdersTable')?.SSESpecification as Values | undefined)?.SSEEnabled === true ? 'KMS (AWS-managed)' : 'none',
    'encryption.topic.ops-alarms': topicKey('OpsAlarmsTopic'),
    'encryption.topic.order-events': topicKey('OrderEventsTopic'),
    'encryption.bucket.artifacts': bucketEncryption('ArtifactBucket'),
    'encryption.bucket.access-logs': bucketEncryption('AccessLogBucket'),
    'encryption.volume.root': data.BlockDeviceMappings?.[0]?.Ebs?.Encrypted === true,
    ...Object.fromEntries([...byFunction].map(([id, name]) => [`logRetention.lambda.${name}`, logGroup(((props(backend, id)?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref))])),
    'logRetention.api.access': logGroup('ApiAccessLogGroup'),
    'logRetention.api.execution': logGroup('ApiExecutionLogGroup'),
    'logRetention.web.accessLogs': v(frontend, ((props(frontend, 'AccessLogBucket')?.LifecycleConfiguration as { Rules: Values[] } | undefined)?.Rules[0]?.ExpirationInDays)),
    ...(Object.assign({}, ...alarmNames(functions).map((name) => alarmValues(name, alarms[name]))) as Values),
    'securityGroup.alb.ingress': rules('ingress', 'alb'),
    'securityGroup.alb.egress': rules('egress', 'alb'),
    'securityGroup.instance.ingress': rules('ingress', 'instance'),
    'securityGroup.instance.egress': rules('egress', 'instance'),
    'waf.api.enabled': enabledBy(backend, 'ApiWebAcl'),
    'waf.api.associated': enabledBy(backend, 'ApiWebAclAssociation'),
    'waf.api.rules': wafRules(backend, 'ApiWebAcl'),
    'waf.web.enabled': enabledBy(frontend, 'WebAcl'),
    'waf.web.associated': enabledBy(frontend, 'WebAclAssociation'),
    'waf.web.rules': wafRules(frontend, 'WebAcl'),
    'tracing.lambda': tracing.size === 1 ? [...tracing][0] : [...tracing],
    'tracing.apiStage': stage.TracingEnabled === true,
    'apiLogging.level': v(backend, method.LoggingLevel),
    'apiLogging.dataTrace': method.DataTraceEnabled,
    'apiLogging.metrics': method.MetricsEnabled,
    'apiLogging.accessLogFields': format?.Format ?? 'none',
    'web.instancePublicIp': data.NetworkInterfaces?.[0]?.AssociatePublicIpAddress === true,
    'web.instanceSubnets': zones && zones.every((zone) => zone.Ref.startsWith('PrivateSubnet')) ? 'private' : JSON.stringify(zones),
    'web.natGatewayPerZone': v(frontend, { Ref: 'NatGatewayPerZone' }) === 'true',
    'web.interfaceEndpoints': v(frontend, { Ref: 'VpcInterfaceEndpoints' }) === 'true',
  };
}

/** The access log format as its field names, so the two tools' spellings (jsonencode, a JSON string) compare. */
async function normaliseAccessLogFields(values: Values): Promise<Values> {
  const raw = values['apiLogging.accessLogFields'];
  const parsed = typeof raw === 'string' && raw.startsWith('${jsonencode(') ? await jsonencoded(raw) : typeof raw === 'string' && raw.startsWith('{') ? (JSON.parse(raw) as unknown) : raw;
  return { ...values, 'apiLogging.accessLogFields': parsed };
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

/** Every alarm field of one alarm, as the disagreement each would be when that alarm is missing on the CloudFormation side. */
function alarmValuesKeys(name: string): RegExp[] {
  return Object.keys(alarmValues(name, {}))
    .sort()
    .map((key) => new RegExp(`^${escape(key)}: .*cloudformation="<no ${escape(name)} alarm>"$`));
}

describe('parity of Terraform, CloudFormation and the local stack', () => {
  let backend: ParsedModule;
  let frontend: ParsedModule;
  let sources: Record<string, Values>;
  /** What only the two tools share (encryption, retention, alarms, security groups, WAF, tracing, API logging). */
  let iac: Record<string, Values>;
  const readBackend = () => parseModule(join(repoRoot, 'terraform-backend'));
  const readFrontend = () => parseModule(join(repoRoot, 'terraform-frontend'));
  const terraformIac = async (b: ParsedModule, f: ParsedModule) => normaliseAccessLogFields(terraformIacSettings(b, f));
  const cloudFormationIac = (b: CfnTemplate, f: CfnTemplate) => normaliseAccessLogFields(cloudFormationIacSettings(b, f));
  beforeAll(async () => {
    [backend, frontend] = await Promise.all([readBackend(), readFrontend()]);
    sources = {
      terraform: await terraformSettings(backend, frontend),
      cloudformation: cloudFormationSettings(loadTemplate('backend'), loadTemplate('frontend')),
      local: localSettings(settings, functions),
    };
    iac = { terraform: await terraformIac(backend, frontend), cloudformation: await cloudFormationIac(loadTemplate('backend'), loadTemplate('frontend')) };
  });

  it('when encryption, retention, alarms, security groups, WAF, tracing and API logging are read from both tools, then they agree', () => {
    const keys = Object.keys(iac.terraform!);
    console.log(`parity: ${keys.length} settings compared across terraform, cloudformation only`);
    expect(keys.length).toBeGreaterThanOrEqual(100);
    for (const [name, values] of Object.entries(iac)) expect({ name, unread: Object.keys(values).filter((key) => values[key] === undefined || JSON.stringify(values[key]).startsWith('"<')) }).toEqual({ name, unread: [] });
    expect(disagreements(iac)).toEqual([]);
    // What the comparison stands on, spelt out once.
    expect(iac.terraform!['securityGroup.alb.egress']).toEqual([`tcp ${settings.web.appPort}-${settings.web.appPort} to sg:instance`]);
    expect(iac.terraform!['waf.api.enabled']).toBe(true);
    expect(iac.terraform!['waf.web.enabled']).toBe(true);
    expect(iac.terraform!['alarm.advance-orders-throttles.metric']).toBe('AWS/Lambda/Throttles');
    expect(iac.terraform!['web.instancePublicIp']).toBe(false);
  });

  it('when any one of those values changes on one side, then the parity fails naming it', () => {
    for (const name of Object.keys(iac)) {
      for (const key of Object.keys(iac[name]!)) {
        const value = iac[name]![key];
        const changed = { ...iac, [name]: { ...iac[name], [key]: typeof value === 'number' ? value + 1 : `${JSON.stringify(value)}x` } };
        expect(disagreements(changed)).toEqual([expect.stringMatching(new RegExp(`^${escape(key)}:`))]);
      }
    }
  });

  it('when queue or table encryption, an alarm threshold, the ALB group\'s egress, a log retention or WAF is changed in one tool\'s files, then the parity fails naming it', async () => {
    const terraformEdits: [string, (b: ParsedModule, f: ParsedModule) => void, RegExp[]][] = [
      ['the orders queue unencrypted', (b) => (b.resource.aws_sqs_queue!.orders![0]!.sqs_managed_sse_enabled = false), [/^encryption\.queue\.orders: terraform="none", cloudformation="SSE-SQS"$/]],
      ['the DLQ alarm\'s threshold', (b) => ((b.variable.dlq_alarm_threshold![0] as { default: number }).default = 2), [/^alarm\.dlq\.threshold: terraform=2, cloudformation=1$/]],
      ['the log retention', (b) => ((b.variable.log_retention_days![0] as { default: number }).default = 14), [/^logRetention\.api\.access: terraform=14/, /^logRetention\.api\.execution: terraform=14/, ...Object.keys(functions).map((name) => new RegExp(`^logRetention\\.lambda\\.${name}: terraform=14`))]],
      ['WAF off on the load balancer', (_b, f) => ((f.variable.waf_enabled![0] as { default: boolean }).default = false), [/^waf\.web\.associated: terraform=false/, /^waf\.web\.enabled: terraform=false/]],
      [
        'the ALB group opened to everything',
        (_b, f) => (f.resource.aws_vpc_security_group_egress_rule!.alb_to_instances![0] = { security_group_id: '${aws_security_group.alb.id}', ip_protocol: '-1', cidr_ipv4: '0.0.0.0/0' }),
        [/^securityGroup\.alb\.egress: terraform=\["-1 undefined-undefined to 0\.0\.0\.0\/0"\]/],
      ],
      ['a function\'s throttle alarms for only three functions', (b) => (b.resource.aws_cloudwatch_metric_alarm!.lambda_throttles![0]!.for_each = { 'submit-order': {}, 'process-order': {}, 'get-order': {} }), [/^alarm\.advance-orders-throttles\.actions: terraform="<no advance-orders-throttles alarm>"/]],
    ];
    for (const [what, edit, expected] of terraformEdits) {
      const [b, f] = await Promise.all([readBackend(), readFrontend()]);
      edit(b, f);
      const found = disagreements({ ...iac, terraform: await terraformIac(b, f) }).sort();
      expect({ what, found }).toEqual({ what, found: expect.arrayContaining(expected.map((pattern): unknown => expect.stringMatching(pattern))) as unknown });
      expect({ what, count: found.length }).toEqual({ what, count: what.startsWith('a function') ? 9 : expected.length });
    }
    const cloudFormationEdits: [string, (b: CfnTemplate, f: CfnTemplate) => void, RegExp[]][] = [
      ['the table unencrypted', (b) => delete b.Resources.OrdersTable!.Properties!.SSESpecification, [/^encryption\.table\.orders: terraform="KMS \(AWS-managed\)", cloudformation="none"$/]],
      ['the API\'s 5xx threshold', (b) => (b.Parameters.Api5xxRateAlarmThreshold!.Default = 0.1), [/^alarm\.api-5xx-rate\.threshold: terraform=0\.05, cloudformation=0\.1$/]],
      // The finding of the review: without inline egress, CloudFormation keeps AWS's allow-all rule.
      [
        'the ALB group\'s egress as a separate resource',
        (_b, f) => {
          const group = f.Resources.LoadBalancerSecurityGroup!.Properties!;
          const [rule] = group.SecurityGroupEgress as Values[];
          delete group.SecurityGroupEgress;
          f.Resources.LoadBalancerEgress = { Type: 'AWS::EC2::SecurityGroupEgress', Properties: { GroupId: { Ref: 'LoadBalancerSecurityGroup' }, ...rule } };
        },
        [/^securityGroup\.alb\.egress: .*cloudformation=\["-1 all to 0\.0\.0\.0\/0 \(the default rule\)","tcp 3000-3000 to sg:instance"\]$/],
      ],
      ['the access logs\' retention', (_b, f) => (f.Parameters.LogRetentionDays!.Default = 90), [/^logRetention\.web\.accessLogs: terraform=30, cloudformation=90$/]],
      ['WAF off on the API', (b) => (b.Parameters.WafEnabled!.Default = 'false'), [/^waf\.api\.associated: terraform=true, cloudformation=false$/, /^waf\.api\.enabled: terraform=true, cloudformation=false$/]],
      ['the kitchen\'s error alarm removed', (b) => delete b.Resources.AdvanceOrdersErrorsAlarm, alarmValuesKeys('advance-orders-errors')],
    ];
    for (const [what, edit, expected] of cloudFormationEdits) {
      const [b, f] = [loadTemplate('backend'), loadTemplate('frontend')];
      edit(b, f);
      const found = disagreements({ ...iac, cloudformation: await cloudFormationIac(b, f) }).sort();
      expect({ what, found }).toEqual({ what, found: expected.map((pattern): unknown => expect.stringMatching(pattern)) });
    }
  });

  /** Only the keys the queue type decides (the default type, and each type's queues and mapping). */
  const queueTypeOnly = (values: Values): Values => Object.fromEntries(Object.entries(values).filter(([key]) => key === 'queue.type' || key.startsWith('queueType.')));

  it('when the queue type is read from all three, for standard and for fifo, then the names, the queues\' and the DLQ\'s types, deduplication and the mapping agree', () => {
    const picked = Object.fromEntries(Object.entries(sources).map(([name, values]) => [name, queueTypeOnly(values)]));
    for (const [name, values] of Object.entries(picked)) {
      expect({ name, count: Object.keys(values).length }).toEqual({ name, count: 1 + 9 * 2 });
      expect({ name, unread: Object.keys(values).filter((key) => values[key] === undefined || JSON.stringify(values[key]).startsWith('"<')) }).toEqual({ name, unread: [] });
    }
    expect(disagreements(picked)).toEqual([]);
    // What the comparison stands on, spelt out once.
    expect(picked.local).toMatchObject({
      'queue.type': 'standard',
      'queueType.standard.queueName': 'orders',
      'queueType.standard.queueFifo': false,
      'queueType.standard.maximumBatchingWindowSeconds': 0,
      'queueType.fifo.queueName': 'orders.fifo',
      'queueType.fifo.deadLetterQueueName': 'orders-dlq.fifo',
      'queueType.fifo.redrivesTo': 'orders-dlq.fifo',
      'queueType.fifo.queueFifo': true,
      'queueType.fifo.deadLetterQueueFifo': true,
      'queueType.fifo.contentBasedDeduplication': false,
      'queueType.fifo.maximumBatchingWindowSeconds': 'none',
      'queueType.fifo.batchSize': 10,
    });
  });

  it('when one tool\'s queue type, deduplication, DLQ type or FIFO mapping is changed in its files, then the parity fails naming it', async () => {
    const picked = (values: Record<string, Values>) => Object.fromEntries(Object.entries(values).map(([name, each]) => [name, queueTypeOnly(each)]));
    const queueTypesLocal = (module: ParsedModule) => module.locals.find((locals) => 'queue_types' in locals) as { queue_types: Record<string, Values>; queue_type: string };
    const terraformEdits: [string, (module: ParsedModule) => void, RegExp[]][] = [
      ['the FIFO DLQ made standard', (module) => delete module.resource.aws_sqs_queue!.orders_dlq![0]!.fifo_queue, [/^queueType\.fifo\.deadLetterQueueFifo: terraform=false, cloudformation=true, local=true$/]],
      [
        'content-based deduplication on',
        (module) => (module.resource.aws_sqs_queue!.orders![0]!.content_based_deduplication = true),
        [/^queueType\.fifo\.contentBasedDeduplication: terraform=true, cloudformation=false, local=false$/, /^queueType\.standard\.contentBasedDeduplication: terraform=true,/],
      ],
      ['a batching window on FIFO', (module) => (queueTypesLocal(module).queue_types.fifo!.maximum_batching_window_in_seconds = 0), [/^queueType\.fifo\.maximumBatchingWindowSeconds: terraform=0, cloudformation="none", local="none"$/]],
      ['the FIFO names without .fifo', (module) => (queueTypesLocal(module).queue_types.fifo!.name_suffix = ''), [/^queueType\.fifo\.deadLetterQueueName: terraform="orders-dlq",/, /^queueType\.fifo\.queueName: terraform="orders",/, /^queueType\.fifo\.redrivesTo: terraform="orders-dlq",/]],
      ['fifo by default', (module) => ((module.variable.queue_type![0] as { default: string }).default = 'fifo'), [/^queue\.type: terraform="fifo", cloudformation="standard", local="standard"$/]],
    ];
    for (const [what, edit, expected] of terraformEdits) {
      const edited = await readBackend();
      edit(edited);
      const found = disagreements(picked({ ...sources, terraform: await terraformSettings(edited, frontend) })).sort();
      expect({ what, found }).toEqual({ what, found: expected.map((pattern): unknown => expect.stringMatching(pattern)) });
    }
    // The type picked by something other than var.queue_type: every FIFO key says so.
    const fixed = await readBackend();
    queueTypesLocal(fixed).queue_type = '${local.queue_types["standard"]}';
    expect(disagreements(picked({ ...sources, terraform: await terraformSettings(fixed, frontend) }))).toEqual(expect.arrayContaining([expect.stringMatching(/^queueType\.fifo\.queueName: terraform="orders<local\.queue_type is/)]));

    const cloudFormationEdits: [string, (template: CfnTemplate) => void, RegExp[]][] = [
      ['the FIFO DLQ made standard', (template) => delete template.Resources.OrdersDeadLetterQueue!.Properties!.FifoQueue, [/^queueType\.fifo\.deadLetterQueueFifo: terraform=true, cloudformation=false, local=true$/]],
      ['content-based deduplication on FIFO', (template) => (template.Resources.OrdersQueue!.Properties!.ContentBasedDeduplication = { 'Fn::If': ['FifoQueues', true, { Ref: 'AWS::NoValue' }] }), [/^queueType\.fifo\.contentBasedDeduplication: terraform=false, cloudformation=true, local=false$/]],
      ['a batching window on FIFO', (template) => (template.Resources.ProcessOrderEventSourceMapping!.Properties!.MaximumBatchingWindowInSeconds = 0), [/^queueType\.fifo\.maximumBatchingWindowSeconds: terraform="none", cloudformation=0, local="none"$/]],
      ['fifo by default', (template) => (template.Parameters.QueueType!.Default = 'fifo'), [/^queue\.type: terraform="standard", cloudformation="fifo", local="standard"$/]],
    ];
    for (const [what, edit, expected] of cloudFormationEdits) {
      const template = loadTemplate('backend');
      edit(template);
      const found = disagreements(picked({ ...sources, cloudformation: cloudFormationSettings(template, loadTemplate('frontend')) })).sort();
      expect({ what, found }).toEqual({ what, found: expected.map((pattern): unknown => expect.stringMatching(pattern)) });
    }

    // The local stack: its default type is the settings'.
    const local = localSettings({ ...settings, queue: { ...settings.queue, type: 'fifo' } }, functions);
    expect(disagreements(picked({ ...sources, local }))).toEqual([expect.stringMatching(/^queue\.type: terraform="standard", cloudformation="standard", local="fifo"$/)]);
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
