// Terraform, CloudFormation and the local stack must agree on every setting they share. Each source
// is read as deployed or run (Terraform: the attribute, through its variable's default; CloudFormation:
// the property, through its parameter's default; the local stack: platform/settings.ts, the function
// declaration platform/functions.ts and the table the local stack creates from the order store).
// The functions compared are those the declaration names, so a new function is checked without this
// file learning its name, and one declared but deployed by neither tool fails here by name.
import { parse } from '@cdktf/hcl2json';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cartTable } from '../../backend-lambdas/lib/cart-store.js';
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { appClientDefinition, userPoolDefinition } from '../../local/cognito.js';
import { profiles } from '../../local/profiles.js';
import { cartTableDefinition, CUSTOMER_NOTIFICATIONS_SUBSCRIPTION, ORDER_EVENTS_EMAIL_FILTER, orderTableDefinition, queueDefinitions } from '../../local/resources.js';
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
  if (trigger.type === 'api') return { type: 'api', routes: [...trigger.routes].sort(), authorizer: trigger.authorizer ?? 'none' };
  if (trigger.type === 'schedule') return { type: 'schedule', expression: trigger.expression };
  return { ...trigger };
}

/** A function's API triggers, one a route, as one trigger with every route; its authorizer is the routes' if they share one. */
function mergeApiTriggers(found: Values[]): Values[] {
  const api = found.filter((trigger) => trigger.type === 'api');
  if (api.length === 0) return found;
  const authorizers = [...new Set(api.map((trigger) => String(trigger.authorizer)))].sort();
  return [...found.filter((trigger) => trigger.type !== 'api'), { type: 'api', routes: api.flatMap((trigger) => trigger.routes as string[]).sort(), authorizer: authorizers.join('+') }];
}

/** The user pool, its app client and the carts table, in CreateUserPool / CreateUserPoolClient / CreateTable terms. */
function accountSettings(read: {
  poolName: unknown;
  usernameAttributes: unknown;
  autoVerifiedAttributes: unknown;
  passwordPolicy: unknown;
  clientName: unknown;
  explicitAuthFlows: unknown;
  generateSecret: unknown;
  tokenValidity: { id: unknown; access: unknown; refresh: unknown };
  cartsTable: { name: unknown; partitionKey: unknown; attributes: string[]; ttlAttribute: unknown; billingMode: unknown };
  cartTtlSeconds: unknown;
}): Values {
  const sorted = (value: unknown) => (Array.isArray(value) ? [...(value as unknown[])].map(String).sort() : value);
  return {
    'userPool.name': read.poolName,
    'userPool.usernameAttributes': sorted(read.usernameAttributes),
    'userPool.autoVerifiedAttributes': sorted(read.autoVerifiedAttributes),
    'userPool.passwordPolicy': read.passwordPolicy,
    'userPool.client.name': read.clientName,
    'userPool.client.explicitAuthFlows': sorted(read.explicitAuthFlows),
    'userPool.client.generateSecret': read.generateSecret,
    'userPool.client.idTokenValidity': read.tokenValidity.id,
    'userPool.client.accessTokenValidity': read.tokenValidity.access,
    'userPool.client.refreshTokenValidity': read.tokenValidity.refresh,
    'carts.name': read.cartsTable.name,
    'carts.partitionKey': read.cartsTable.partitionKey,
    'carts.attributes': [...read.cartsTable.attributes].sort(),
    'carts.ttlAttribute': read.cartsTable.ttlAttribute,
    'carts.billingMode': read.cartsTable.billingMode,
    'cart.ttlSeconds': read.cartTtlSeconds,
  };
}

/** The customer notifications queue, its DLQ and its subscription to order-events. */
function customerNotificationSettings(read: {
  queueName: unknown;
  deadLetterQueueName: unknown;
  visibilityTimeoutSeconds: unknown;
  maxReceiveCount: unknown;
  deadLetterRetentionSeconds: unknown;
  subscription: { topic: unknown; protocol: unknown; endpoint: unknown; rawMessageDelivery: unknown; filterPolicy: unknown };
}): Values {
  return {
    'customerNotifications.queue.name': read.queueName,
    'customerNotifications.deadLetterQueue.name': read.deadLetterQueueName,
    'customerNotifications.queue.visibilityTimeoutSeconds': read.visibilityTimeoutSeconds,
    'customerNotifications.queue.maxReceiveCount': read.maxReceiveCount,
    'customerNotifications.deadLetterQueue.messageRetentionSeconds': read.deadLetterRetentionSeconds,
    'customerNotifications.subscription.topic': read.subscription.topic,
    'customerNotifications.subscription.protocol': read.subscription.protocol,
    'customerNotifications.subscription.endpoint': read.subscription.endpoint,
    'customerNotifications.subscription.rawMessageDelivery': read.subscription.rawMessageDelivery,
    'customerNotifications.subscription.filterPolicy': read.subscription.filterPolicy,
  };
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
  // A route's authorizer: Cognito when the method names a COGNITO_USER_POOLS authorizer of the pool.
  const authorizerOf = (method: Values): string => {
    if (method.authorization === 'NONE' && method.authorizer_id === undefined) return 'none';
    const authorizer = block(backend, 'aws_api_gateway_authorizer', /aws_api_gateway_authorizer\.(\w+)\.id/.exec(String(method.authorizer_id))?.[1] ?? '');
    return method.authorization === 'COGNITO_USER_POOLS' && authorizer.type === 'COGNITO_USER_POOLS' ? 'cognito' : `<${String(method.authorization)} with ${String(method.authorizer_id)}>`;
  };
  for (const [, integration] of blocks(backend, 'aws_api_gateway_integration')) {
    const method = block(backend, 'aws_api_gateway_method', /aws_api_gateway_method\.(\w+)\./.exec(String(integration.http_method))?.[1] ?? '');
    addTrigger(terraformFunctionOf(integration.uri), { type: 'api', routes: [routeOf(method)], authorizer: authorizerOf(method) });
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
    // API routes of one function are one trigger with several routes.
    const merged = mergeApiTriggers(triggers.get(name)!);
    const environment = environments[name];
    deployed[name] = {
      memoryMb: size.memory_mb,
      timeoutSeconds: size.timeout_seconds,
      environment: environment && Object.fromEntries(Object.entries(environment).map(([variable, value]) => [variable, refOf(TERRAFORM_REFS, value)])),
      triggers: merged,
    };
  }

  const subscription = block(backend, 'aws_sns_topic_subscription', 'order_events_email');
  const pool = block(backend, 'aws_cognito_user_pool', 'customers');
  const client = block(backend, 'aws_cognito_user_pool_client', 'web');
  const carts = block(backend, 'aws_dynamodb_table', 'carts');
  const notifications = block(backend, 'aws_sqs_queue', 'customer_notifications');
  const notificationsDlq = block(backend, 'aws_sqs_queue', 'customer_notifications_dlq');
  const notificationsSubscription = block(backend, 'aws_sns_topic_subscription', 'customer_notifications');
  const policy = ((pool.password_policy as Values[] | undefined) ?? [])[0] ?? {};
  const units = ((client.token_validity_units as Values[] | undefined) ?? [])[0] ?? {};
  const cartsTtl = ((carts.ttl as Values[] | undefined) ?? [])[0];
  const cartsKey = v(backend, carts.hash_key);
  const cartsAttributes = ((carts.attribute as { name: string; type: string }[] | undefined) ?? []).map(({ name, type }) => ({ name: String(v(backend, name)), type }));
  const notificationsRedrive = /maxReceiveCount\s*=\s*(var\.\w+|\d+)/.exec(String(notifications.redrive_policy))?.[1] ?? '';
  const queueNameOf = (reference: unknown) => {
    const name = /^\$\{aws_sqs_queue\.(\w+)\.arn\}$/.exec(String(reference))?.[1];
    return name ? terraformName(backend, block(backend, 'aws_sqs_queue', name).name) : `<${String(reference)}>`;
  };
  const topicNameOf = (reference: unknown) => {
    const name = /^\$\{aws_sns_topic\.(\w+)\.arn\}$/.exec(String(reference))?.[1];
    return name ? terraformName(backend, block(backend, 'aws_sns_topic', name).name) : `<${String(reference)}>`;
  };
  return {
    'queue.type': v(backend, '${var.queue_type}'),
    ...(Object.assign({}, ...QUEUE_TYPES.map((queueType) => terraformQueueTypeSettings(backend, queueType))) as Values),
    ...accountSettings({
      poolName: terraformName(backend, pool.name),
      usernameAttributes: pool.username_attributes,
      autoVerifiedAttributes: pool.auto_verified_attributes,
      passwordPolicy: {
        MinimumLength: v(backend, policy.minimum_length),
        RequireLowercase: v(backend, policy.require_lowercase),
        RequireUppercase: v(backend, policy.require_uppercase),
        RequireNumbers: v(backend, policy.require_numbers),
        RequireSymbols: v(backend, policy.require_symbols),
      },
      clientName: terraformName(backend, client.name),
      explicitAuthFlows: client.explicit_auth_flows,
      generateSecret: client.generate_secret ?? false,
      tokenValidity: {
        id: `${String(v(backend, client.id_token_validity))} ${String(units.id_token)}`,
        access: `${String(v(backend, client.access_token_validity))} ${String(units.access_token)}`,
        refresh: `${String(v(backend, client.refresh_token_validity))} ${String(units.refresh_token)}`,
      },
      cartsTable: {
        name: terraformName(backend, carts.name),
        partitionKey: `${String(cartsKey)} (${cartsAttributes.find(({ name }) => name === cartsKey)?.type ?? 'no attribute definition'})`,
        attributes: cartsAttributes.map(({ name, type }) => `${name}:${type}`),
        ttlAttribute: cartsTtl?.enabled === true ? cartsTtl.attribute_name : 'none',
        billingMode: carts.billing_mode,
      },
      cartTtlSeconds: v(backend, '${var.cart_ttl_seconds}'),
    }),
    ...customerNotificationSettings({
      queueName: terraformName(backend, notifications.name),
      deadLetterQueueName: terraformName(backend, notificationsDlq.name),
      visibilityTimeoutSeconds: v(backend, notifications.visibility_timeout_seconds),
      maxReceiveCount: v(backend, notificationsRedrive.startsWith('var.') ? `\${${notificationsRedrive}}` : Number(notificationsRedrive)),
      deadLetterRetentionSeconds: v(backend, notificationsDlq.message_retention_seconds),
      subscription: {
        topic: topicNameOf(notificationsSubscription.topic_arn),
        protocol: notificationsSubscription.protocol,
        endpoint: queueNameOf(notificationsSubscription.endpoint),
        rawMessageDelivery: notificationsSubscription.raw_message_delivery === true,
        filterPolicy: await jsonencoded(notificationsSubscription.filter_policy),
      },
    }),
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
  const authorizerOf = (method: Values): string => {
    if (method.AuthorizationType === 'NONE' && method.AuthorizerId === undefined) return 'none';
    const authorizer = backend.Resources[refId(method.AuthorizerId) ?? '']?.Properties;
    return method.AuthorizationType === 'COGNITO_USER_POOLS' && authorizer?.Type === 'COGNITO_USER_POOLS' ? 'cognito' : `<${String(method.AuthorizationType)} with ${JSON.stringify(method.AuthorizerId)}>`;
  };
  for (const method of methods) {
    const uri = ((method.Integration as Values | undefined)?.Uri as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'];
    addTrigger(/\$\{(\w+)\.Arn\}/.exec(uri ?? '')?.[1], { type: 'api', routes: [routeOf(method)], authorizer: authorizerOf(method) });
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
    const merged = mergeApiTriggers(triggers.get(name)!);
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
  const pool = props(backend, 'CustomerUserPool');
  const client = props(backend, 'CustomerUserPoolClient');
  const carts = props(backend, 'CartsTable');
  const notifications = props(backend, 'CustomerNotificationsQueue');
  const notificationsSubscription = props(backend, 'CustomerNotificationsSubscription');
  const units = (client.TokenValidityUnits ?? {}) as Values;
  const cartsAttributes = (carts.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map(({ AttributeName, AttributeType }) => `${AttributeName}:${AttributeType}`);
  const cartsKey = keyOf(carts.KeySchema as { AttributeName: string; KeyType: string }[], 'HASH');
  const cartsTtl = carts.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  const { MinimumLength, RequireLowercase, RequireUppercase, RequireNumbers, RequireSymbols } = ((pool.Policies as Values | undefined)?.PasswordPolicy ?? {}) as Values;
  const queueNameOf = (value: unknown) => {
    const id = getAttId(value);
    return id && backend.Resources[id]?.Type === 'AWS::SQS::Queue' ? subWithDefaults(backend, props(backend, id).QueueName) : `<${JSON.stringify(value)}>`;
  };
  const topicNameOf = (value: unknown) => {
    const id = refId(value);
    return id && backend.Resources[id]?.Type === 'AWS::SNS::Topic' ? subWithDefaults(backend, props(backend, id).TopicName) : `<${JSON.stringify(value)}>`;
  };
  return {
    'queue.type': backend.Parameters.QueueType?.Default,
    ...(Object.assign({}, ...QUEUE_TYPES.map(queueTypeSettings)) as Values),
    ...accountSettings({
      poolName: subWithDefaults(backend, pool.UserPoolName),
      usernameAttributes: pool.UsernameAttributes,
      autoVerifiedAttributes: pool.AutoVerifiedAttributes,
      passwordPolicy: { MinimumLength, RequireLowercase, RequireUppercase, RequireNumbers, RequireSymbols },
      clientName: subWithDefaults(backend, client.ClientName),
      explicitAuthFlows: client.ExplicitAuthFlows,
      generateSecret: client.GenerateSecret ?? false,
      tokenValidity: {
        id: `${String(v(backend, client.IdTokenValidity))} ${String(units.IdToken)}`,
        access: `${String(v(backend, client.AccessTokenValidity))} ${String(units.AccessToken)}`,
        refresh: `${String(v(backend, client.RefreshTokenValidity))} ${String(units.RefreshToken)}`,
      },
      cartsTable: {
        name: subWithDefaults(backend, carts.TableName),
        partitionKey: `${String(cartsKey)} (${cartsAttributes.find((attribute) => attribute.startsWith(`${String(cartsKey)}:`))?.split(':')[1] ?? 'no attribute definition'})`,
        attributes: cartsAttributes,
        ttlAttribute: cartsTtl?.Enabled === true ? cartsTtl.AttributeName : 'none',
        billingMode: carts.BillingMode,
      },
      cartTtlSeconds: v(backend, { Ref: 'CartTtlSeconds' }),
    }),
    ...customerNotificationSettings({
      queueName: subWithDefaults(backend, notifications.QueueName),
      deadLetterQueueName: queueNameOf((notifications.RedrivePolicy as Values | undefined)?.deadLetterTargetArn),
      visibilityTimeoutSeconds: v(backend, notifications.VisibilityTimeout),
      maxReceiveCount: v(backend, (notifications.RedrivePolicy as Values | undefined)?.maxReceiveCount),
      deadLetterRetentionSeconds: v(backend, props(backend, getAttId((notifications.RedrivePolicy as Values | undefined)?.deadLetterTargetArn) ?? 'CustomerNotificationsDeadLetterQueue').MessageRetentionPeriod),
      subscription: {
        topic: topicNameOf(notificationsSubscription.TopicArn),
        protocol: notificationsSubscription.Protocol,
        endpoint: queueNameOf(notificationsSubscription.Endpoint),
        rawMessageDelivery: notificationsSubscription.RawMessageDelivery === true,
        filterPolicy: notificationsSubscription.FilterPolicy,
      },
    }),
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
  const pool = userPoolDefinition(source.accounts.userPool);
  const client = appClientDefinition('local', source.accounts.userPool);
  const carts = cartTableDefinition(source.names.cartsTable);
  const cartsKey = keyOf(carts.KeySchema, 'HASH');
  const units = client.TokenValidityUnits ?? {};
  return {
    'queue.type': source.queue.type,
    ...(Object.assign({}, ...QUEUE_TYPES.map(queueTypeSettings)) as Values),
    ...accountSettings({
      poolName: pool.PoolName,
      usernameAttributes: pool.UsernameAttributes,
      autoVerifiedAttributes: pool.AutoVerifiedAttributes,
      passwordPolicy: pool.Policies?.PasswordPolicy,
      clientName: client.ClientName,
      explicitAuthFlows: client.ExplicitAuthFlows,
      generateSecret: client.GenerateSecret ?? false,
      tokenValidity: {
        id: `${String(client.IdTokenValidity)} ${String(units.IdToken)}`,
        access: `${String(client.AccessTokenValidity)} ${String(units.AccessToken)}`,
        refresh: `${String(client.RefreshTokenValidity)} ${String(units.RefreshToken)}`,
      },
      cartsTable: {
        name: carts.TableName,
        partitionKey: `${String(cartsKey)} (${carts.AttributeDefinitions?.find(({ AttributeName }) => AttributeName === cartsKey)?.AttributeType ?? 'no attribute definition'})`,
        attributes: (carts.AttributeDefinitions ?? []).map(({ AttributeName, AttributeType }) => `${AttributeName!}:${AttributeType!}`),
        // dynalite has no TTL: the cart store's attribute is what AWS must expire by (the store enforces it on read locally).
        ttlAttribute: cartTable.ttlAttribute,
        billingMode: carts.BillingMode,
      },
      cartTtlSeconds: source.cart.ttlSeconds,
    }),
    // As local/resources.ts creates them: the queues' settings are the orders queue's.
    ...customerNotificationSettings({
      queueName: source.names.customerNotificationsQueue,
      deadLetterQueueName: source.names.customerNotificationsDeadLetterQueue,
      visibilityTimeoutSeconds: source.queue.visibilityTimeoutSeconds,
      maxReceiveCount: source.queue.maxReceiveCount,
      deadLetterRetentionSeconds: source.deadLetterQueue.messageRetentionSeconds,
      subscription: {
        topic: source.names.orderEventsTopic,
        protocol: 'sqs',
        endpoint: source.names.customerNotificationsQueue,
        rawMessageDelivery: CUSTOMER_NOTIFICATIONS_SUBSCRIPTION.RawMessageDelivery === 'true',
        filterPolicy: JSON.parse(CUSTOMER_NOTIFICATIONS_SUBSCRIPTION.FilterPolicy) as unknown,
      },
    }),
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
  return ['dlq', 'customer-notifications-dlq', 'backlog', 'api-5xx-rate', ...Object.keys(declaration).flatMap((name) => [`${name}-errors`, `${name}-throttles`]), 'web-5xx', 'web-unhealthy-hosts'];
}

function alarmValues(name: string, alarm: Values | undefined): Values {
  const keys = ['metric', 'statistic', 'comparison', 'threshold', 'periodSeconds', 'evaluationPeriods', 'treatMissingData', 'actions', 'okActions'];
  return Object.fromEntries(keys.map((key) => [`alarm.${name}.${key}`, alarm === undefined ? `<no ${name} alarm>` : alarm[key]]));
}

/** The variable names a web tier env file (`cat > /etc/order-web.env <<'ENV' ... ENV`) sets, from its script. */
function envFileKeys(script: string): string[] {
  const body = /cat > \/etc\/order-web\.env <<'ENV'\n([\s\S]*?)\n\s*ENV\n/.exec(script)?.[1];
  return body === undefined ? ['<no env file in the user data>'] : body.split('\n').map((line) => line.trim().split('=')[0]!).sort();
}

async function terraformIacSettings(backend: ParsedModule, frontend: ParsedModule): Promise<Values> {
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
    'customer-notifications-dlq': alarm(backend, block(backend, 'aws_cloudwatch_metric_alarm', 'customer_notifications_dlq_not_empty')),
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
  // `${var.x ? "A" : "B"}` and `${var.x == "V" ? "A" : "B"}` as the variables' defaults make them.
  const conditional = (value: unknown): unknown => {
    const text = String(value);
    const test = /^\$\{var\.(\w+) \? "([^"]*)" : "([^"]*)"\}$/.exec(text);
    if (test) return v(backend, `\${var.${test[1]!}}`) === true ? test[2] : test[3];
    const equals = /^\$\{var\.(\w+) == "([^"]*)" \? "([^"]*)" : "([^"]*)"\}$/.exec(text);
    if (equals) return v(backend, `\${var.${equals[1]!}}`) === equals[2] ? equals[3] : equals[4];
    return v(backend, value);
  };
  const pool = block(backend, 'aws_cognito_user_pool', 'customers') ?? {};
  const client = block(backend, 'aws_cognito_user_pool_client', 'web') ?? {};
  const authorizer = block(backend, 'aws_api_gateway_authorizer', 'customers') ?? {};
  const subscription = block(backend, 'aws_sns_topic_subscription', 'customer_notifications') ?? {};
  const methods = Object.values(backend.resource.aws_api_gateway_method ?? {}).map(([method]) => method!);
  const pathOf = (reference: unknown): string => {
    const name = /aws_api_gateway_resource\.(\w+)\.id/.exec(String(reference))?.[1];
    const resource = name ? block(backend, 'aws_api_gateway_resource', name) : undefined;
    return resource ? `${pathOf(resource.parent_id)}/${String(resource.path_part)}` : '';
  };
  // The queue policy's statements, with the references named by what they are.
  const queuePolicy = (((await jsonencoded(block(backend, 'aws_sqs_queue_policy', 'customer_notifications')?.policy)) as { Statement?: Values[] } | undefined)?.Statement ?? []).map((statement) => {
    const name = (value: unknown) => ({ '${aws_sqs_queue.customer_notifications.arn}': 'customer-notifications', '${aws_sns_topic.order_events.arn}': 'order-events' })[String(value)] ?? String(value);
    const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
    return `${String(statement.Effect)} ${JSON.stringify(statement.Principal)} ${JSON.stringify(statement.Action)} on ${name(statement.Resource)} when ${Object.entries(condition ?? {}).map(([test, pairs]) => Object.entries(pairs).map(([key, value]) => `${test} ${key} ${name(value)}`).join(', ')).join('; ') || 'always'}`;
  });
  const mappingResponses = Object.fromEntries(
    Object.values(backend.resource.aws_lambda_event_source_mapping ?? {}).map(([mapping]) => [`eventSourceMapping.${terraformFunctionOf(mapping!.function_name) ?? String(mapping!.function_name)}.functionResponseTypes`, mapping!.function_response_types]),
  );
  const recovery = (name: string) => ((block(backend, 'aws_dynamodb_table', name)?.point_in_time_recovery as Values[] | undefined)?.[0]?.enabled === true);
  return {
    'encryption.table.carts': ((block(backend, 'aws_dynamodb_table', 'carts')?.server_side_encryption as Values[] | undefined)?.[0]?.enabled === true ? 'KMS (AWS-managed)' : 'none'),
    'encryption.queue.customer-notifications': queueEncryption('customer_notifications'),
    'encryption.queue.customer-notifications-dlq': queueEncryption('customer_notifications_dlq'),
    'pointInTimeRecovery.table.orders': recovery('orders'),
    'pointInTimeRecovery.table.carts': recovery('carts'),
    'deletionProtection.table.orders': v(backend, block(backend, 'aws_dynamodb_table', 'orders')?.deletion_protection_enabled),
    'deletionProtection.table.carts': v(backend, block(backend, 'aws_dynamodb_table', 'carts')?.deletion_protection_enabled),
    'userPool.deletionProtection': conditional(pool.deletion_protection),
    'userPool.advancedSecurityMode': v(backend, ((pool.user_pool_add_ons as Values[] | undefined)?.[0] ?? {}).advanced_security_mode),
    'userPool.tier': conditional(pool.user_pool_tier),
    'userPool.emailSendingAccount': conditional(((pool.email_configuration as Values[] | undefined)?.[0] ?? {}).email_sending_account),
    'userPool.mfa': pool.mfa_configuration,
    'userPool.caseSensitiveUsernames': ((pool.username_configuration as Values[] | undefined)?.[0] ?? {}).case_sensitive,
    'userPool.temporaryPasswordValidityDays': ((pool.password_policy as Values[] | undefined)?.[0] ?? {}).temporary_password_validity_days,
    'userPool.accountRecovery': (((pool.account_recovery_setting as Values[] | undefined)?.[0]?.recovery_mechanism as Values[] | undefined) ?? []).map((mechanism) => `${String(mechanism.name)}:${String(mechanism.priority)}`),
    'userPool.client.preventUserExistenceErrors': client.prevent_user_existence_errors,
    'userPool.client.enableTokenRevocation': client.enable_token_revocation,
    'authorizer.type': authorizer.type,
    'authorizer.providers': Array.isArray(authorizer.provider_arns) ? authorizer.provider_arns.map((arn) => (arn === '${aws_cognito_user_pool.customers.arn}' ? 'the customers\' user pool' : String(arn))) : String(authorizer.provider_arns),
    'authorizer.identitySource': authorizer.identity_source,
    'api.routesWithoutApiKey': methods.filter((method) => method.api_key_required !== true).map((method) => `${String(method.http_method)} ${pathOf(method.resource_id)}`).sort(),
    'customerNotifications.subscription.filterPolicyScope': subscription.filter_policy_scope,
    'customerNotifications.queuePolicy': queuePolicy,
    ...mappingResponses,
    'ses.senderIdentity': block(backend, 'aws_sesv2_email_identity', 'customer_mail_from')?.email_identity === '${var.customer_mail_from}' ? 'the customer mail sender' : String(block(backend, 'aws_sesv2_email_identity', 'customer_mail_from')?.email_identity),
    'web.envFileKeys': envFileKeys(readFileSync(join(repoRoot, 'terraform-frontend', 'user-data.sh.tftpl'), 'utf8')),
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
  /** An Fn::If as the parameters' defaults decide it (conditions of one Fn::Equals, or its Fn::Not). */
  const decided = (template: CfnTemplate, value: unknown): unknown => {
    const choice = (value as { 'Fn::If'?: [string, unknown, unknown] } | undefined)?.['Fn::If'];
    if (!choice) return resolveDefault(template, value);
    let condition = template.Conditions?.[choice[0]] as Values | undefined;
    let negated = false;
    if (condition?.['Fn::Not']) {
      negated = true;
      condition = (condition['Fn::Not'] as Values[])[0];
    }
    const [left, right] = (condition?.['Fn::Equals'] ?? []) as [unknown, unknown];
    return (String(resolveDefault(template, left)) === String(right)) !== negated ? choice[1] : choice[2];
  };
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
    'customer-notifications-dlq': alarm(backend, props(backend, 'CustomerNotificationsDeadLetterQueueAlarm')),
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
  const pool = props(backend, 'CustomerUserPool') ?? {};
  const client = props(backend, 'CustomerUserPoolClient') ?? {};
  const authorizer = props(backend, 'CustomersAuthorizer') ?? {};
  const subscription = props(backend, 'CustomerNotificationsSubscription') ?? {};
  const pathOf = (reference: unknown): string => {
    const id = (reference as { Ref?: string } | undefined)?.Ref;
    const resource = id ? props(backend, id) : undefined;
    return resource ? `${pathOf(resource.ParentId)}/${String(resource.PathPart)}` : '';
  };
  const named = (value: unknown) => {
    const text = JSON.stringify(value);
    return ({ '{"Fn::GetAtt":["CustomerNotificationsQueue","Arn"]}': 'customer-notifications', '{"Ref":"OrderEventsTopic"}': 'order-events' } as Record<string, string>)[text] ?? text;
  };
  const queuePolicy = (((props(backend, 'CustomerNotificationsQueuePolicy')?.PolicyDocument as { Statement?: Values[] } | undefined)?.Statement) ?? []).map((statement) => {
    const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
    return `${String(statement.Effect)} ${JSON.stringify(statement.Principal)} ${JSON.stringify(statement.Action)} on ${named(statement.Resource)} when ${Object.entries(condition ?? {}).map(([test, pairs]) => Object.entries(pairs).map(([key, value]) => `${test} ${key} ${named(value)}`).join(', ')).join('; ') || 'always'}`;
  });
  const mappingResponses = Object.fromEntries(
    resourcesOfType(backend, 'AWS::Lambda::EventSourceMapping').map(([, mapping]) => [`eventSourceMapping.${byFunction.get((mapping.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref ?? '') ?? JSON.stringify(mapping.Properties?.FunctionName)}.functionResponseTypes`, mapping.Properties?.FunctionResponseTypes]),
  );
  const recovery = (id: string) => (props(backend, id)?.PointInTimeRecoverySpecification as Values | undefined)?.PointInTimeRecoveryEnabled === true;
  const userData = ((props(frontend, 'LaunchTemplate')?.LaunchTemplateData as { UserData?: { 'Fn::Base64'?: { 'Fn::Sub'?: string } } } | undefined)?.UserData?.['Fn::Base64']?.['Fn::Sub']) ?? '';
  return {
    'encryption.table.carts': (props(backend, 'CartsTable')?.SSESpecification as Values | undefined)?.SSEEnabled === true ? 'KMS (AWS-managed)' : 'none',
    'encryption.queue.customer-notifications': queueEncryption('CustomerNotificationsQueue'),
    'encryption.queue.customer-notifications-dlq': queueEncryption('CustomerNotificationsDeadLetterQueue'),
    'pointInTimeRecovery.table.orders': recovery('OrdersTable'),
    'pointInTimeRecovery.table.carts': recovery('CartsTable'),
    'deletionProtection.table.orders': decided(backend, props(backend, 'OrdersTable')?.DeletionProtectionEnabled),
    'deletionProtection.table.carts': decided(backend, props(backend, 'CartsTable')?.DeletionProtectionEnabled),
    'userPool.deletionProtection': decided(backend, pool.DeletionProtection),
    'userPool.advancedSecurityMode': v(backend, (pool.UserPoolAddOns as Values | undefined)?.AdvancedSecurityMode),
    'userPool.tier': decided(backend, pool.UserPoolTier),
    'userPool.emailSendingAccount': (decided(backend, pool.EmailConfiguration) as Values | undefined)?.EmailSendingAccount,
    'userPool.mfa': pool.MfaConfiguration,
    'userPool.caseSensitiveUsernames': (pool.UsernameConfiguration as Values | undefined)?.CaseSensitive,
    'userPool.temporaryPasswordValidityDays': ((pool.Policies as Values | undefined)?.PasswordPolicy as Values | undefined)?.TemporaryPasswordValidityDays,
    'userPool.accountRecovery': (((pool.AccountRecoverySetting as Values | undefined)?.RecoveryMechanisms as Values[] | undefined) ?? []).map((mechanism) => `${String(mechanism.Name)}:${String(mechanism.Priority)}`),
    'userPool.client.preventUserExistenceErrors': client.PreventUserExistenceErrors,
    'userPool.client.enableTokenRevocation': client.EnableTokenRevocation,
    'authorizer.type': authorizer.Type,
    'authorizer.providers': Array.isArray(authorizer.ProviderARNs) ? authorizer.ProviderARNs.map((arn) => (JSON.stringify(arn) === '{"Fn::GetAtt":["CustomerUserPool","Arn"]}' ? 'the customers\' user pool' : JSON.stringify(arn))) : JSON.stringify(authorizer.ProviderARNs),
    'authorizer.identitySource': authorizer.IdentitySource,
    'api.routesWithoutApiKey': resourcesOfType(backend, 'AWS::ApiGateway::Method').map(([, method]) => method.Properties!).filter((method) => method.ApiKeyRequired !== true).map((method) => `${String(method.HttpMethod)} ${pathOf(method.ResourceId)}`).sort(),
    'customerNotifications.subscription.filterPolicyScope': subscription.FilterPolicyScope,
    'customerNotifications.queuePolicy': queuePolicy,
    ...mappingResponses,
    'ses.senderIdentity': JSON.stringify(props(backend, 'CustomerMailFromIdentity')?.EmailIdentity) === '{"Ref":"CustomerMailFrom"}' ? 'the customer mail sender' : JSON.stringify(props(backend, 'CustomerMailFromIdentity')?.EmailIdentity),
    'web.envFileKeys': envFileKeys(userData.replace(/^ {0,12}/gm, '')),
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
  const terraformIac = async (b: ParsedModule, f: ParsedModule) => normaliseAccessLogFields(await terraformIacSettings(b, f));
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
      // Both dead-letter queues' alarms fire at dlq_alarm_threshold.
      ['the DLQ alarm\'s threshold', (b) => ((b.variable.dlq_alarm_threshold![0] as { default: number }).default = 2), [/^alarm\.customer-notifications-dlq\.threshold: terraform=2, cloudformation=1$/, /^alarm\.dlq\.threshold: terraform=2, cloudformation=1$/]],
      ['the log retention', (b) => ((b.variable.log_retention_days![0] as { default: number }).default = 14), [/^logRetention\.api\.access: terraform=14/, /^logRetention\.api\.execution: terraform=14/, ...Object.keys(functions).map((name) => new RegExp(`^logRetention\\.lambda\\.${name}: terraform=14`))]],
      ['WAF off on the load balancer', (_b, f) => ((f.variable.waf_enabled![0] as { default: boolean }).default = false), [/^waf\.web\.associated: terraform=false/, /^waf\.web\.enabled: terraform=false/]],
      [
        'the ALB group opened to everything',
        (_b, f) => (f.resource.aws_vpc_security_group_egress_rule!.alb_to_instances![0] = { security_group_id: '${aws_security_group.alb.id}', ip_protocol: '-1', cidr_ipv4: '0.0.0.0/0' }),
        [/^securityGroup\.alb\.egress: terraform=\["-1 undefined-undefined to 0\.0\.0\.0\/0"\]/],
      ],
      [
        'a function\'s throttle alarms for every function but the kitchen',
        (b) => (b.resource.aws_cloudwatch_metric_alarm!.lambda_throttles![0]!.for_each = Object.fromEntries(Object.keys(functions).filter((name) => name !== 'advance-orders').map((name) => [name, {}]))),
        [/^alarm\.advance-orders-throttles\.actions: terraform="<no advance-orders-throttles alarm>"/],
      ],
      ['the carts table unencrypted', (b) => ((b.resource.aws_dynamodb_table!.carts![0]!.server_side_encryption as Values[])[0]!.enabled = false), [/^encryption\.table\.carts: terraform="none", cloudformation="KMS \(AWS-managed\)"$/]],
      [
        'the customer notifications queue open to any topic',
        (b) => (b.resource.aws_sqs_queue_policy!.customer_notifications![0]!.policy = '${jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "sns.amazonaws.com" }, Action = "sqs:SendMessage", Resource = aws_sqs_queue.customer_notifications.arn }] })}'),
        [/^customerNotifications\.queuePolicy: terraform=\[".* on customer-notifications when always"\]/],
      ],
      ['threat protection on', (b) => ((b.variable.user_pool_advanced_security_mode![0] as { default: string }).default = 'AUDIT'), [/^userPool\.advancedSecurityMode: terraform="AUDIT", cloudformation="OFF"$/, /^userPool\.tier: terraform="PLUS", cloudformation="ESSENTIALS"$/]],
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
      ['the authorizer reading another header', (b) => (b.Resources.CustomersAuthorizer!.Properties!.IdentitySource = 'method.request.header.X-Token'), [/^authorizer\.identitySource: terraform="method\.request\.header\.Authorization", cloudformation="method\.request\.header\.X-Token"$/]],
      ['a /me route without the API key', (b) => (b.Resources.GetMyOrderMethod!.Properties!.ApiKeyRequired = false), [/^api\.routesWithoutApiKey: terraform=\[\], cloudformation=\["GET \/me\/orders\/\{id\}"\]$/]],
      ['the user pool unprotected', (b) => (b.Parameters.UserPoolDeletionProtection!.Default = 'false'), [/^userPool\.deletionProtection: terraform="ACTIVE", cloudformation="INACTIVE"$/]],
      ['the user pool mailing through SES by default', (b) => (b.Parameters.UserPoolMailThroughSes!.Default = 'true'), [/^userPool\.emailSendingAccount: terraform="COGNITO_DEFAULT", cloudformation="DEVELOPER"$/]],
      ['the customer DLQ alarm removed', (b) => delete b.Resources.CustomerNotificationsDeadLetterQueueAlarm, alarmValuesKeys('customer-notifications-dlq')],
      ['notify-customer reporting no item failures', (b) => delete b.Resources.CustomerNotificationsEventSourceMapping!.Properties!.FunctionResponseTypes, [/^eventSourceMapping\.notify-customer\.functionResponseTypes: terraform=\["ReportBatchItemFailures"\], cloudformation=undefined$/]],
      ['the web tier not told the issuer', (_b, f) => {
        const data = f.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as { UserData: { 'Fn::Base64': { 'Fn::Sub': string } } };
        data.UserData['Fn::Base64']['Fn::Sub'] = data.UserData['Fn::Base64']['Fn::Sub'].replace(/^COGNITO_ISSUER=.*\n/m, '');
      }, [/^web\.envFileKeys: .*cloudformation=\[.*"COGNITO_CLIENT_ID","COGNITO_USER_POOL_ID",/]],
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
    const edits: [string, (module: ParsedModule) => void, RegExp | RegExp[]][] = [
      // Both queues redrive after max_receive_count receives.
      ['max_receive_count', (module) => ((module.variable.max_receive_count![0] as { default: number }).default = 4), [/^customerNotifications\.queue\.maxReceiveCount: terraform=4,/, /^queue\.maxReceiveCount: terraform=4,/]],
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
      [
        'the customer mail filter',
        (module) => (module.resource.aws_sns_topic_subscription!.customer_notifications![0]!.filter_policy = '${jsonencode({ event_type = ["order.received"] })}'),
        /^customerNotifications\.subscription\.filterPolicy: terraform=\{"event_type":\["order\.received"\]\}, cloudformation=\{"customer_mail":\["true"\],"event_type":\["order\.received","order\.status_changed"\]\},/,
      ],
      ['raw delivery off', (module) => (module.resource.aws_sns_topic_subscription!.customer_notifications![0]!.raw_message_delivery = false), /^customerNotifications\.subscription\.rawMessageDelivery: terraform=false,/],
      [
        'a /me route without the authorizer',
        (module) => {
          const method = module.resource.aws_api_gateway_method!.get_my_orders![0]!;
          method.authorization = 'NONE';
          delete method.authorizer_id;
        },
        /^lambda\.my-orders\.trigger\.authorizer: terraform="cognito\+none", cloudformation="cognito", local="cognito"$/,
      ],
      ['the carts TTL attribute', (module) => ((module.resource.aws_dynamodb_table!.carts![0]!.ttl as Values[])[0]!.attribute_name = 'ttl'), /^carts\.ttlAttribute: terraform="ttl", cloudformation="expires_at", local="expires_at"$/],
      [
        'the account-orders projection',
        (module) => ((module.resource.aws_dynamodb_table!.orders![0]!.global_secondary_index as Values[])[1]!.non_key_attributes = ['status']),
        /^table\.index\.account-orders\.nonKeyAttributes: terraform=\["status"\],/,
      ],
      ['the password length', (module) => ((module.variable.user_pool_password_policy![0] as { default: { minimum_length: number } }).default.minimum_length = 12), /^userPool\.passwordPolicy: terraform=\{"MinimumLength":12,/],
      ['the refresh token\'s validity', (module) => ((module.variable.user_pool_refresh_token_validity_days![0] as { default: number }).default = 7), /^userPool\.client\.refreshTokenValidity: terraform="7 days", cloudformation="30 days", local="30 days"$/],
      ['the cart TTL', (module) => ((module.variable.cart_ttl_seconds![0] as { default: number }).default = 3600), /^cart\.ttlSeconds: terraform=3600, cloudformation=604800, local=604800$/],
    ];
    for (const [what, edit, expected] of edits) {
      const edited = await readBackend();
      edit(edited);
      const found = disagreements({ ...sources, terraform: await terraformSettings(edited, frontend) }).sort();
      expect({ what, found }).toEqual({ what, found: [expected].flat().map((pattern): unknown => expect.stringMatching(pattern)) });
    }
  });

  it('when a value is changed in the CloudFormation template, then the parity reads the change', () => {
    const template = loadTemplate('backend');
    (template.Resources.OrdersTable!.Properties!.AttributeDefinitions as { AttributeName: string; AttributeType: string }[])[1]!.AttributeType = 'S';
    template.Parameters.OrderPreparingSeconds!.Default = '900';
    const found = disagreements({ ...sources, cloudformation: cloudFormationSettings(template, loadTemplate('frontend')) });
    expect(found).toEqual([
      expect.stringMatching(/^lifecycle\.timingsSeconds: terraform=.*cloudformation=\{"PREPARING":900,/),
      expect.stringMatching(/^table\.attributes: .*cloudformation=\["account_id:S","due_at:S","due_shard:S","order_id:S","received_at:S"\]/),
      expect.stringMatching(/^table\.index\.due-orders\.partitionKey: .*cloudformation="due_shard \(S\)"/),
    ]);
  });

  it('when a customer setting is changed in the CloudFormation template, then the parity reads the change', () => {
    const edits: [string, (template: CfnTemplate) => void, RegExp][] = [
      ['the password length', (t) => (((t.Resources.CustomerUserPool!.Properties!.Policies as Values).PasswordPolicy as Values).MinimumLength = 12), /^userPool\.passwordPolicy: terraform=\{"MinimumLength":8,.*cloudformation=\{"MinimumLength":12,/],
      ['raw delivery off', (t) => (t.Resources.CustomerNotificationsSubscription!.Properties!.RawMessageDelivery = false), /^customerNotifications\.subscription\.rawMessageDelivery: terraform=true, cloudformation=false, local=true$/],
      [
        'a cart route without the authorizer',
        (t) => {
          t.Resources.GetCartMethod!.Properties!.AuthorizationType = 'NONE';
          delete t.Resources.GetCartMethod!.Properties!.AuthorizerId;
        },
        /^lambda\.cart\.trigger\.authorizer: terraform="cognito", cloudformation="cognito\+none", local="cognito"$/,
      ],
      ['a secret on the client', (t) => (t.Resources.CustomerUserPoolClient!.Properties!.GenerateSecret = true), /^userPool\.client\.generateSecret: terraform=false, cloudformation=true, local=false$/],
      ['SRP sign-in allowed', (t) => (t.Resources.CustomerUserPoolClient!.Properties!.ExplicitAuthFlows = ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']), /^userPool\.client\.explicitAuthFlows: .*cloudformation=\["ALLOW_REFRESH_TOKEN_AUTH","ALLOW_USER_PASSWORD_AUTH","ALLOW_USER_SRP_AUTH"\]/],
      ['the carts TTL off', (t) => ((t.Resources.CartsTable!.Properties!.TimeToLiveSpecification as Values).Enabled = false), /^carts\.ttlAttribute: terraform="expires_at", cloudformation="none", local="expires_at"$/],
      ['the subscription on the wrong topic', (t) => (t.Resources.CustomerNotificationsSubscription!.Properties!.TopicArn = { Ref: 'OpsAlarmsTopic' }), /^customerNotifications\.subscription\.topic: terraform="order-events", cloudformation="ops-alarms", local="order-events"$/],
      ['the account-orders index keyed by order date', (t) => ((((t.Resources.OrdersTable!.Properties!.GlobalSecondaryIndexes as Values[])[1]!.KeySchema as Values[])[1]!).AttributeName = 'due_at'), /^table\.index\.account-orders\.sortKey: terraform="received_at \(S\)", cloudformation="due_at \(S\)", local="received_at \(S\)"$/],
    ];
    for (const [what, edit, expected] of edits) {
      const template = loadTemplate('backend');
      edit(template);
      const found = disagreements({ ...sources, cloudformation: cloudFormationSettings(template, loadTemplate('frontend')) });
      expect({ what, found }).toEqual({ what, found: [expect.stringMatching(expected)] });
    }
  });

  it('when the local stack\'s user pool, client or customer subscription would differ, then the parity fails naming it', () => {
    const local = localSettings(settings, functions);
    // What the local stack creates, spelt out once: the parity compares the tools with this.
    expect(local['userPool.usernameAttributes']).toEqual(['email']);
    expect(local['userPool.client.explicitAuthFlows']).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH']);
    expect(local['carts.partitionKey']).toBe(`${cartTable.partitionKey} (S)`);
    expect(local['customerNotifications.subscription.rawMessageDelivery']).toBe(true);
    const edited = { ...settings, accounts: { userPool: { ...settings.accounts.userPool, idTokenValidityMinutes: 30 } } } as unknown as typeof settings;
    // The local client's ID and access tokens both last idTokenValidityMinutes, as Terraform's and CloudFormation's do.
    expect(disagreements({ ...sources, local: localSettings(edited, functions) })).toEqual([
      expect.stringMatching(/^userPool\.client\.idTokenValidity: terraform="60 minutes", cloudformation="60 minutes", local="30 minutes"$/),
      expect.stringMatching(/^userPool\.client\.accessTokenValidity: terraform="60 minutes", cloudformation="60 minutes", local="30 minutes"$/),
    ]);
    const unnamed = { ...settings, names: { ...settings.names, cartsTable: 'baskets' } } as unknown as typeof settings;
    expect(disagreements({ ...sources, local: localSettings(unnamed, functions) })).toEqual([expect.stringMatching(/^carts\.name: terraform="carts", cloudformation="carts", local="baskets"$/)]);
  });

  it('when a function is declared but a tool does not deploy it, then the parity fails naming the function and the tool', async () => {
    // A new function, declared with no IaC yet.
    const declaration: Declaration = {
      ...functions,
      'refund-order': { description: 'Refunds an order.', entry: 'x', wiring: 'x', memoryMb: 128, timeoutSeconds: 5, environment: { TABLE_NAME: 'orders-table-name' }, permissions: [], trigger: { type: 'api', routes: ['POST /orders/{id}/refund'] } },
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
      expect.arrayContaining([
        expect.stringMatching(/^lambda\.functions: terraform=\["cart","checkout","get-order","my-orders","notify-customer","process-order","submit-order"\]/),
        expect.stringMatching(/^lambda\.advance-orders\.timeoutSeconds: terraform=undefined/),
      ]),
    );
  });
});
