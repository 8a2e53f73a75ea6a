// Terraform, CloudFormation and the local stack must agree on every setting they share. Each source
// is read as deployed or run. Terraform: its own evaluation, `terraform show -json` of a plan of each
// module with its defaults (the backend offline, with each queue type; the web tier against moto, whose
// EC2 API answers its zone lookup). CloudFormation: the generated template's property, through its
// parameter's default. The local stack: platform/settings.ts, the function declaration
// (platform/functions.json, read by platform/functions.ts) and the table the local stack creates from
// the order store. Edits to one tool's files are made in a copy of its module and planned again.
// The functions compared are those the declaration names, so a new function is checked without this
// file learning its name, and one declared but deployed by neither tool fails here by name.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { cartTable } from '../../backend-lambdas/lib/cart-store.js';
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { productTable } from '../../backend-lambdas/lib/product-store.js';
import { appClientDefinition, userPoolDefinition } from '../../local/cognito.js';
import { profiles } from '../../local/profiles.js';
import { cartTableDefinition, CUSTOMER_NOTIFICATIONS_SUBSCRIPTION, ORDER_EVENTS_EMAIL_FILTER, orderTableDefinition, productTableDefinition, queueDefinitions } from '../../local/resources.js';
import { apiRoutes, functions, mappingSettings, type FunctionSpec, type Trigger } from '../../platform/functions.js';
import { QUEUE_TYPES, settings, type QueueType } from '../../platform/settings.js';
import { gate } from '../helpers/requirements.js';
import { deployedFunctions, loadTemplate, policyStatements, resolveDefault, resolveWith, resourcesOfType, subWithDefaults, type CfnTemplate } from './cloudformation.js';
import { motoMissing, startMoto, type Moto } from './moto.js';
import { CFN_REFS, CFN_TIMINGS_PARAMETERS, refOf, type KnownRef } from './resource-refs.js';
import {
  allPlanned,
  createTerraformSession,
  expressionReferences,
  knownAfterApply,
  offlinePlan,
  plannedResource,
  planVariable,
  referencedResources,
  removeTerraformSession,
  repoRoot,
  terraformUnavailableReason,
  variableDefault,
  type ModuleName,
  type PlannedResource,
  type TerraformPlan,
  type TerraformSession,
} from './terraform-cli.js';

type Values = Record<string, unknown>;
type Declaration = Readonly<Record<string, FunctionSpec>>;

/** What one tool deploys of a function, in the declaration's terms. */
interface DeployedFunction {
  memoryMb: unknown;
  timeoutSeconds: unknown;
  /** Variable -> the ResourceRef its value stands for (or a marker naming a value that is none); for Terraform, SET_AT_APPLY when its plan cannot show them. */
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
    // As a plan can show them, for every source alike (a plan cannot show variables given an ARN or URL).
    values[`lambda.${name}.environment`] = environmentAtPlan(fn.environment);
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

/** The user pool, its app client and the carts and products tables, in CreateUserPool / CreateUserPoolClient / CreateTable terms. */
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
  productsTable: { name: unknown; partitionKey: unknown; attributes: string[]; ttlAttribute: unknown; billingMode: unknown };
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
    'products.name': read.productsTable.name,
    'products.partitionKey': read.productsTable.partitionKey,
    'products.attributes': [...read.productsTable.attributes].sort(),
    'products.ttlAttribute': read.productsTable.ttlAttribute,
    'products.billingMode': read.productsTable.billingMode,
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

// ---------------------------------------------------------------- Terraform, as its plans say
//
// Everything here is read from `terraform show -json` of a plan: `planned_values` for what the plan
// knows (names, sizes, thresholds, flags, policies of constants), `after_unknown` for what it leaves
// to apply, the root `variables` as the plan used them, and the `configuration`, where Terraform lists
// what each attribute's expression refers to. An ARN, URL or id is known only after apply: where a
// setting is such a binding (the queue a mapping reads, the topic an alarm notifies, the DLQ a queue
// redrives to), the resource the configuration says the expression refers to is read instead, by its
// planned name. The rehearsal (test/iac/rehearsal.test.ts) checks those bindings against the resources
// deployed on moto.

/** The plans one comparison reads: the backend deployed with each queue type (standard's is read for everything else too), and the web tier. */
interface TerraformPlans {
  backend: Record<QueueType, TerraformPlan>;
  frontend: TerraformPlan;
}

/** Every planned instance of a resource type, of every block of that type. */
function planned(plan: TerraformPlan, type: string): PlannedResource[] {
  return allPlanned(plan).filter((resource) => resource.type === type);
}

/** The planned values of the resource at an address ({} when the plan has none: every read of it is then undefined, which the tests name). */
function valuesAt(plan: TerraformPlan, address: string): Values {
  return plannedResource(plan, address)?.values ?? {};
}

/** A nested block's only (or first) entry: a plan writes every block as a list. */
function first(value: unknown): Values {
  return (value as Values[] | undefined)?.[0] ?? {};
}

/** One value when every item has it, else every item's (so that a difference shows). */
function shared(values: unknown[]): unknown {
  return new Set(values.map((value) => JSON.stringify(value))).size === 1 ? values[0] : values;
}

/** The planned names (`field`) of the resources of `type` an attribute's expression refers to, e.g. the queue a mapping reads. */
function referencedNames(plan: TerraformPlan, address: string, path: (string | number)[], type: string, field = 'name'): unknown {
  const names = referencedResources(plan, address, path)
    .filter((resource) => resource.type === type)
    .map((resource) => resource.values[field]);
  return names.length === 1 ? names[0] : `<${path.join('.')} of ${address} refers to ${names.length} ${type}>`;
}

/**
 * A queue's redrive count. The redrive policy holds the DLQ's ARN, so the plan knows the policy only
 * after apply: the count is the value of the one variable the configuration says the policy reads.
 */
function redriveCount(plan: TerraformPlan, address: string): unknown {
  const policy = valuesAt(plan, address).redrive_policy;
  if (typeof policy === 'string') return (JSON.parse(policy) as Values).maxReceiveCount;
  const variables = expressionReferences(plan, address, ['redrive_policy']).filter((reference) => /^var\.\w+$/.test(reference));
  return variables.length === 1 ? planVariable(plan, variables[0]!.slice('var.'.length)) : `<the redrive policy of ${address} reads ${variables.length} variables>`;
}

/** The queue a queue redrives to, found as redriveCount finds its count. */
function redriveTarget(plan: TerraformPlan, address: string): PlannedResource | undefined {
  const targets = referencedResources(plan, address, ['redrive_policy']).filter((resource) => resource.type === 'aws_sqs_queue');
  return targets.length === 1 ? targets[0] : undefined;
}

/**
 * Where each ResourceRef's value is in a plan. Typed by the declaration's ResourceRef, so a new kind of
 * binding does not compile until it has one. 'after apply': a queue URL or topic ARN, which no plan knows.
 */
const PLANNED_REFS: Record<KnownRef, ((plan: TerraformPlan) => unknown) | 'after apply'> = {
  'orders-queue-url': 'after apply',
  'order-events-topic-arn': 'after apply',
  'orders-table-name': (plan) => valuesAt(plan, 'aws_dynamodb_table.orders').name,
  'carts-table-name': (plan) => valuesAt(plan, 'aws_dynamodb_table.carts').name,
  'products-table-name': (plan) => valuesAt(plan, 'aws_dynamodb_table.products').name,
  'customer-mail-from': (plan) => valuesAt(plan, 'aws_sesv2_email_identity.customer_mail_from').email_identity,
  'lifecycle-timings': (plan) => planVariable(plan, 'order_timings_seconds'),
  'max-receive-count': (plan) => planVariable(plan, 'max_receive_count'),
  'cart-ttl-seconds': (plan) => planVariable(plan, 'cart_ttl_seconds'),
  'shop-url': (plan) => planVariable(plan, 'shop_url'),
};

/**
 * The references no plan knows the value of. The AWS provider cannot plan a map with some values
 * unknown, so a function whose variables name one of them has all its variables unknown in the plan:
 * for such a function every source shows SET_AT_APPLY, and the rehearsal reads its variables on moto.
 */
const KNOWN_AFTER_APPLY: ReadonlySet<string> = new Set(Object.entries(PLANNED_REFS).flatMap(([ref, read]) => (read === 'after apply' ? [ref] : [])));
const SET_AT_APPLY = '<known after apply: a variable is an ARN or URL>';

/** A function's variables (variable -> ResourceRef) as a plan can show them: whole, or SET_AT_APPLY. */
function environmentAtPlan(environment: unknown): unknown {
  if (!environment || typeof environment !== 'object') return environment;
  return Object.values(environment as Values).some((ref) => KNOWN_AFTER_APPLY.has(String(ref))) ? SET_AT_APPLY : environment;
}

/** The ResourceRef a planned variable's value is, or a marker naming the value when it is none (or more than one). */
function plannedRefOf(plan: TerraformPlan, value: string): string {
  // An object (the timings) is given as its JSON, whatever the order of its keys.
  const asJson = () => {
    try {
      return canonical(JSON.parse(value) as unknown);
    } catch {
      return undefined;
    }
  };
  const same = (expected: unknown) => (expected !== null && typeof expected === 'object' ? asJson() === canonical(expected) : String(expected) === value);
  const found = Object.entries(PLANNED_REFS).flatMap(([ref, read]) => (read !== 'after apply' && same(read(plan)) ? [ref] : []));
  return found.length === 1 ? found[0]! : `<${found.length === 0 ? 'not a known reference' : `any of ${found.join(', ')}`}: ${JSON.stringify(value)}>`;
}

/** A function's variables as its plan has them: each bound to the ResourceRef its value is, or SET_AT_APPLY. */
function terraformEnvironment(plan: TerraformPlan, fn: PlannedResource): unknown {
  if (knownAfterApply(plan, fn.address, ['environment', 0, 'variables'])) return SET_AT_APPLY;
  const variables = (first(fn.values.environment).variables ?? {}) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(variables)
      // POWERTOOLS_* are the same for every function (the rehearsal reads them on moto).
      .filter(([variable]) => !variable.startsWith('POWERTOOLS_'))
      .map(([variable, value]) => [variable, plannedRefOf(plan, value)]),
  );
}

/**
 * A route as the plan has it: the method's verb and the path its for_each key names ("GET
 * /orders/{id}"), each segment of which must be a planned API resource keyed by its path ("orders",
 * "orders/{id}") with that path part. Which resource is whose parent is an id, known after apply.
 */
function routeOf(plan: TerraformPlan, method: PlannedResource): string {
  const path = /^[A-Z]+ (\/\S*)$/.exec(String(method.index))?.[1];
  if (path === undefined) return `<${method.address} is not keyed by its route>`;
  const segments = path.split('/').filter(Boolean);
  const resources = planned(plan, 'aws_api_gateway_resource');
  const missing = segments.findIndex((segment, depth) => !resources.some((resource) => resource.index === segments.slice(0, depth + 1).join('/') && resource.values.path_part === segment));
  return `${String(method.values.http_method)} ${missing === -1 ? path : `<no planned resource ${segments.slice(0, missing + 1).join('/')} for ${path}>`}`;
}

/** A method's authorizer: cognito when it is COGNITO_USER_POOLS with an authorizer (its id known after apply) that is the pool's. */
function authorizerOf(plan: TerraformPlan, method: PlannedResource): string {
  const withAuthorizer = method.values.authorizer_id != null || knownAfterApply(plan, method.address, ['authorizer_id']);
  if (method.values.authorization === 'NONE' && !withAuthorizer) return 'none';
  const authorizers = referencedResources(plan, method.address, ['authorizer_id']).filter((resource) => resource.type === 'aws_api_gateway_authorizer');
  const cognito = method.values.authorization === 'COGNITO_USER_POOLS' && withAuthorizer && authorizers.length === 1 && authorizers[0]!.values.type === 'COGNITO_USER_POOLS';
  return cognito ? 'cognito' : `<${String(method.values.authorization)} with ${authorizers.map((resource) => resource.address).join(', ') || 'no authorizer'}>`;
}

/** Each planned function by its name, with what the plan says of its size, variables and triggers. */
function terraformFunctions(plan: TerraformPlan): Record<string, DeployedFunction> {
  const lambdas = planned(plan, 'aws_lambda_function');
  const triggers = new Map<string, Values[]>(lambdas.map((fn) => [String(fn.values.function_name), []]));
  const addTrigger = (name: unknown, trigger: Values) => triggers.get(String(name))?.push(trigger);
  // A route's function is in its invoke permission (the integration's URI is an ARN, known after apply).
  const permissions = planned(plan, 'aws_lambda_permission');
  for (const method of planned(plan, 'aws_api_gateway_method')) {
    const permission = permissions.find((candidate) => candidate.values.principal === 'apigateway.amazonaws.com' && candidate.index === method.index);
    addTrigger(permission?.values.function_name, { type: 'api', routes: [routeOf(plan, method)], authorizer: authorizerOf(plan, method) });
  }
  for (const mapping of planned(plan, 'aws_lambda_event_source_mapping')) {
    addTrigger(referencedNames(plan, mapping.address, ['function_name'], 'aws_lambda_function', 'function_name'), {
      type: 'queue',
      queue: referencedNames(plan, mapping.address, ['event_source_arn'], 'aws_sqs_queue'),
      batchSize: mapping.values.batch_size,
      maximumBatchingWindowSeconds: mapping.values.maximum_batching_window_in_seconds,
      maximumConcurrency: first(mapping.values.scaling_config).maximum_concurrency,
    });
  }
  for (const target of planned(plan, 'aws_cloudwatch_event_target')) {
    const fn = referencedNames(plan, target.address, ['arn'], 'aws_lambda_function', 'function_name');
    const rule = referencedResources(plan, target.address, ['rule']).find((resource) => resource.type === 'aws_cloudwatch_event_rule');
    // A target without a permission for its rule is never invoked.
    const invokable = permissions.some(
      (permission) => permission.values.principal === 'events.amazonaws.com' && permission.values.function_name === fn && referencedResources(plan, permission.address, ['source_arn']).some((resource) => resource.address === rule?.address),
    );
    addTrigger(fn, { type: invokable ? 'schedule' : 'schedule without a lambda permission for its rule', expression: rule?.values.schedule_expression });
  }
  return Object.fromEntries(
    lambdas.map((fn) => [
      String(fn.values.function_name),
      { memoryMb: fn.values.memory_size, timeoutSeconds: fn.values.timeout, environment: terraformEnvironment(plan, fn), triggers: mergeApiTriggers(triggers.get(String(fn.values.function_name))!) },
    ]),
  );
}

/** The queue type's keys from a plan made with var.queue_type = queueType. */
function terraformQueueTypeSettings(plan: TerraformPlan, queueType: QueueType): Values {
  const orders = valuesAt(plan, 'aws_sqs_queue.orders');
  const dlq = valuesAt(plan, 'aws_sqs_queue.orders_dlq');
  const mapping = valuesAt(plan, 'aws_lambda_event_source_mapping.orders');
  return queueTypeKeys(queueType, {
    queueName: orders.name,
    deadLetterQueueName: dlq.name,
    queueFifo: orders.fifo_queue ?? false,
    deadLetterQueueFifo: dlq.fifo_queue ?? false,
    contentBasedDeduplication: orders.content_based_deduplication ?? false,
    deadLetterQueueContentBasedDeduplication: dlq.content_based_deduplication ?? false,
    redrivesTo: redriveTarget(plan, 'aws_sqs_queue.orders')?.values.name ?? '<the redrive policy of aws_sqs_queue.orders refers to no one queue>',
    batchSize: mapping.batch_size,
    maximumBatchingWindowSeconds: mapping.maximum_batching_window_in_seconds,
  });
}

function terraformSettings({ backend: plans, frontend }: TerraformPlans): Values {
  const backend = plans.standard;
  const at = (address: string) => valuesAt(backend, address);
  const orders = at('aws_sqs_queue.orders');
  const alarm = at('aws_cloudwatch_metric_alarm.dlq_not_empty');
  // The error and throttle alarms; a scheduled function's stopped alarm watches a longer period on purpose.
  const functionAlarms = planned(backend, 'aws_cloudwatch_metric_alarm').filter((resource) => resource.values.namespace === 'AWS/Lambda' && ['Errors', 'Throttles'].includes(String(resource.values.metric_name)));
  const lambdas = planned(backend, 'aws_lambda_function');
  const table = at('aws_dynamodb_table.orders');
  const targetGroup = valuesAt(frontend, 'aws_lb_target_group.web');
  const pool = at('aws_cognito_user_pool.customers');
  const client = at('aws_cognito_user_pool_client.web');
  const carts = at('aws_dynamodb_table.carts');
  const notifications = at('aws_sqs_queue.customer_notifications');
  const notificationsDlq = redriveTarget(backend, 'aws_sqs_queue.customer_notifications')?.values ?? {};
  const subscription = 'aws_sns_topic_subscription.customer_notifications';
  const policy = first(pool.password_policy);
  const units = first(client.token_validity_units);
  const cartsTtl = first(carts.ttl);
  const cartsAttributes = (carts.attribute as { name: string; type: string }[] | undefined) ?? [];
  const products = at('aws_dynamodb_table.products');
  const productsTtl = first(products.ttl);
  const productsAttributes = (products.attribute as { name: string; type: string }[] | undefined) ?? [];
  const throttle = first(at('aws_api_gateway_usage_plan.web').throttle_settings);
  // Planned with order_events_email set: the optional subscription is in the plan.
  const emailFilter = at('aws_sns_topic_subscription.order_events_email[0]').filter_policy;
  return {
    // The default, as the module declares it; the plans below are made with each type named.
    'queue.type': variableDefault(backend, 'queue_type'),
    ...(Object.assign({}, ...QUEUE_TYPES.map((queueType) => terraformQueueTypeSettings(plans[queueType], queueType))) as Values),
    ...accountSettings({
      poolName: pool.name,
      usernameAttributes: pool.username_attributes,
      autoVerifiedAttributes: pool.auto_verified_attributes,
      passwordPolicy: {
        MinimumLength: policy.minimum_length,
        RequireLowercase: policy.require_lowercase,
        RequireUppercase: policy.require_uppercase,
        RequireNumbers: policy.require_numbers,
        RequireSymbols: policy.require_symbols,
      },
      clientName: client.name,
      explicitAuthFlows: client.explicit_auth_flows,
      generateSecret: client.generate_secret ?? false,
      tokenValidity: {
        id: `${String(client.id_token_validity)} ${String(units.id_token)}`,
        access: `${String(client.access_token_validity)} ${String(units.access_token)}`,
        refresh: `${String(client.refresh_token_validity)} ${String(units.refresh_token)}`,
      },
      cartsTable: {
        name: carts.name,
        partitionKey: `${String(carts.hash_key)} (${cartsAttributes.find(({ name }) => name === carts.hash_key)?.type ?? 'no attribute definition'})`,
        attributes: cartsAttributes.map(({ name, type }) => `${name}:${type}`),
        ttlAttribute: cartsTtl.enabled === true ? cartsTtl.attribute_name : 'none',
        billingMode: carts.billing_mode,
      },
      // The variable as the plan has it; that cart and checkout are given it is the bindings' check.
      cartTtlSeconds: planVariable(backend, 'cart_ttl_seconds'),
      productsTable: {
        name: products.name,
        partitionKey: `${String(products.hash_key)} (${productsAttributes.find(({ name }) => name === products.hash_key)?.type ?? 'no attribute definition'})`,
        attributes: productsAttributes.map(({ name, type }) => `${name}:${type}`),
        ttlAttribute: productsTtl.enabled === true ? productsTtl.attribute_name : 'none',
        billingMode: products.billing_mode,
      },
    }),
    ...customerNotificationSettings({
      queueName: notifications.name,
      deadLetterQueueName: notificationsDlq.name,
      visibilityTimeoutSeconds: notifications.visibility_timeout_seconds,
      maxReceiveCount: redriveCount(backend, 'aws_sqs_queue.customer_notifications'),
      deadLetterRetentionSeconds: notificationsDlq.message_retention_seconds,
      subscription: {
        topic: referencedNames(backend, subscription, ['topic_arn'], 'aws_sns_topic'),
        protocol: at(subscription).protocol,
        endpoint: referencedNames(backend, subscription, ['endpoint'], 'aws_sqs_queue'),
        rawMessageDelivery: at(subscription).raw_message_delivery === true,
        filterPolicy: typeof at(subscription).filter_policy === 'string' ? (JSON.parse(at(subscription).filter_policy as string) as unknown) : at(subscription).filter_policy,
      },
    }),
    'queue.visibilityTimeoutSeconds': orders.visibility_timeout_seconds,
    'queue.messageRetentionSeconds': orders.message_retention_seconds,
    'queue.receiveWaitTimeSeconds': orders.receive_wait_time_seconds,
    'queue.maxReceiveCount': redriveCount(backend, 'aws_sqs_queue.orders'),
    'deadLetterQueue.messageRetentionSeconds': redriveTarget(backend, 'aws_sqs_queue.orders')?.values.message_retention_seconds,
    'alarm.namespace': alarm.namespace,
    'alarm.metricName': alarm.metric_name,
    'alarm.statistic': alarm.statistic,
    'alarm.comparisonOperator': alarm.comparison_operator,
    'alarm.threshold': alarm.threshold,
    'alarm.periodSeconds': alarm.period,
    'alarm.evaluationPeriods': alarm.evaluation_periods,
    'alarm.treatMissingData': alarm.treat_missing_data,
    'functionAlarms.periodSeconds': shared(functionAlarms.map((resource) => resource.values.period)),
    'functionAlarms.evaluationPeriods': shared(functionAlarms.map((resource) => resource.values.evaluation_periods)),
    'lambda.runtime': shared(lambdas.map((fn) => fn.values.runtime)),
    'lambda.architecture': shared(lambdas.map((fn) => (fn.values.architectures as string[]).join())),
    ...functionSettings(terraformFunctions(backend)),
    // The variable as the plan has it: the functions given it (process-order, advance-orders) also name the
    // topic's ARN, so their variables are known after apply; the rehearsal reads ORDER_TIMINGS on moto.
    'lifecycle.timingsSeconds': planVariable(backend, 'order_timings_seconds'),
    ...tableSettings({
      partitionKey: table.hash_key,
      attributes: (table.attribute as { name: string; type: string }[] | undefined) ?? [],
      indexes: ((table.global_secondary_index as Values[] | undefined) ?? []).map((index) => ({
        name: index.name,
        partitionKey: String(index.hash_key),
        sortKey: typeof index.range_key === 'string' ? index.range_key : undefined,
        projectionType: index.projection_type,
        nonKeyAttributes: (index.non_key_attributes as unknown[] | undefined) ?? [],
      })),
    }),
    'table.billingMode': table.billing_mode,
    'orderEvents.emailFilterPolicy': typeof emailFilter === 'string' ? (JSON.parse(emailFilter) as unknown) : '<no aws_sns_topic_subscription.order_events_email[0] in the plan>',
    'api.routes': planned(backend, 'aws_api_gateway_method')
      .map((method) => routeOf(backend, method))
      .sort(),
    'api.stageName': at('aws_api_gateway_stage.orders').stage_name,
    'api.throttleRateLimit': throttle.rate_limit,
    'api.throttleBurstLimit': throttle.burst_limit,
    'web.appPort': targetGroup.port,
    'web.healthCheckPath': first(targetGroup.health_check).path,
  };
}

// ---------------------------------------------------------------- CloudFormation

/** Each function's variables bound to the ResourceRef each value is; POWERTOOLS_* are the same for every function (the CloudFormation test checks them). */
function cloudFormationBindings(template: CfnTemplate): Record<string, Values> {
  return Object.fromEntries(
    [...deployedFunctions(template)].map(([name, id]) => {
      const variables = (template.Resources[id]?.Properties?.Environment as { Variables?: Values } | undefined)?.Variables ?? {};
      return [name, Object.fromEntries(Object.entries(variables).filter(([variable]) => !variable.startsWith('POWERTOOLS_')).map(([variable, value]) => [variable, refOf(CFN_REFS, value)]))];
    }),
  );
}

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
    .filter((alarm) => alarm.Namespace === 'AWS/Lambda' && ['Errors', 'Throttles'].includes(String(alarm.MetricName)));
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
  const bindings = cloudFormationBindings(backend);
  const deployed: Record<string, DeployedFunction> = {};
  for (const [id, name] of byId) {
    const fn = props(backend, id);
    const merged = mergeApiTriggers(triggers.get(name)!);
    deployed[name] = {
      memoryMb: v(backend, fn.MemorySize),
      timeoutSeconds: v(backend, fn.Timeout),
      environment: bindings[name],
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
  const products = props(backend, 'ProductsTable');
  const productsAttributes = (products.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map(({ AttributeName, AttributeType }) => `${AttributeName}:${AttributeType}`);
  const productsKey = keyOf(products.KeySchema as { AttributeName: string; KeyType: string }[], 'HASH');
  const productsTtl = products.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
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
      productsTable: {
        name: subWithDefaults(backend, products.TableName),
        partitionKey: `${String(productsKey)} (${productsAttributes.find((attribute) => attribute.startsWith(`${String(productsKey)}:`))?.split(':')[1] ?? 'no attribute definition'})`,
        attributes: productsAttributes,
        ttlAttribute: productsTtl?.Enabled === true ? productsTtl.AttributeName : 'none',
        billingMode: products.BillingMode,
      },
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
  const products = productTableDefinition(source.names.productsTable);
  const productsKey = keyOf(products.KeySchema, 'HASH');
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
      productsTable: {
        name: products.TableName,
        partitionKey: `${String(productsKey)} (${products.AttributeDefinitions?.find(({ AttributeName }) => AttributeName === productsKey)?.AttributeType ?? 'no attribute definition'})`,
        attributes: (products.AttributeDefinitions ?? []).map(({ AttributeName, AttributeType }) => `${AttributeName!}:${AttributeType!}`),
        // The product store keeps no TTL attribute: the menu is kept until the staff change it.
        ttlAttribute: 'none',
        billingMode: products.BillingMode,
      },
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

/** The backend's alarms on the tables, SES's reputation and the kitchen's runs, by each tool's id for them. */
const WATCH_ALARMS: Record<string, { terraform: string; cloudformation: string }> = {
  'orders-table-throttles': { terraform: 'aws_cloudwatch_metric_alarm.table_throttles["orders"]', cloudformation: 'OrdersTableThrottlesAlarm' },
  'carts-table-throttles': { terraform: 'aws_cloudwatch_metric_alarm.table_throttles["carts"]', cloudformation: 'CartsTableThrottlesAlarm' },
  'products-table-throttles': { terraform: 'aws_cloudwatch_metric_alarm.table_throttles["products"]', cloudformation: 'ProductsTableThrottlesAlarm' },
  'ses-bounce-rate': { terraform: 'aws_cloudwatch_metric_alarm.ses_bounce_rate', cloudformation: 'SesBounceRateAlarm' },
  'ses-complaint-rate': { terraform: 'aws_cloudwatch_metric_alarm.ses_complaint_rate', cloudformation: 'SesComplaintRateAlarm' },
  'kitchen-stopped': { terraform: 'aws_cloudwatch_metric_alarm.schedule_stopped["advance-orders"]', cloudformation: 'KitchenStoppedAlarm' },
};

/** The alarms each tool must have: the queues' four, the API's, each declared function's two, the tables', SES's and the kitchen's, the web tier's three. */
function alarmNames(declaration: Declaration): string[] {
  return [
    'dlq', 'customer-notifications-dlq', 'backlog', 'customer-notifications-age', 'api-5xx-rate',
    ...Object.keys(declaration).flatMap((name) => [`${name}-errors`, `${name}-throttles`]),
    ...Object.keys(WATCH_ALARMS),
    'web-5xx', 'web-unhealthy-hosts', 'web-no-healthy-hosts',
  ];
}

function alarmValues(name: string, alarm: Values | undefined): Values {
  const keys = ['metric', 'statistic', 'comparison', 'threshold', 'periodSeconds', 'evaluationPeriods', 'treatMissingData', 'actions', 'okActions'];
  return Object.fromEntries(keys.map((key) => [`alarm.${name}.${key}`, alarm === undefined ? `<no ${name} alarm>` : alarm[key]]));
}

/**
 * A heredoc of the web tier's user data (`<<'UNIT'` the systemd unit, `<<'AGENT'` the CloudWatch agent's
 * config, `<<'ROTATE'` logrotate's), a line each, with CloudFormation's spellings of the app's folder and
 * the log group put as Terraform's template writes them.
 */
function heredoc(script: string, tag: 'UNIT' | 'AGENT' | 'ROTATE', cloudFormation = false): string[] {
  const body = new RegExp(`<<'${tag}'\\n([\\s\\S]*?)\\n\\s*${tag}\\n`).exec(script)?.[1];
  if (body === undefined) return [`<no ${tag} heredoc in the user data>`];
  const lines = body.split('\n').map((line) => line.trim());
  return cloudFormation ? lines.map((line) => line.replaceAll('/opt/order-web', '${install_dir}').replaceAll('${InstanceLogGroup}', '${log_group_name}')) : lines;
}

/** The variable names a web tier env file (`cat > /etc/order-web.env <<'ENV' ... ENV`) sets, from its script. */
function envFileKeys(script: string): string[] {
  const body = /cat > \/etc\/order-web\.env <<'ENV'\n([\s\S]*?)\n\s*ENV\n/.exec(script)?.[1];
  return body === undefined ? ['<no env file in the user data>'] : body.split('\n').map((line) => line.trim().split('=')[0]!).sort();
}


// ---------------------------------------------------------------- the web tier's live status, and the small shop

/** The account both tools' web role grants are read in: Terraform's locals fixed to it (FRONTEND_ACCOUNT_OVERRIDE), the template's AWS::AccountId. */
const PARITY_ACCOUNT = '123456789012';

interface Grant {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

const listOf = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * A role's Allow grants of SQS and SNS actions (the web tier's event queues and subscriptions), one
 * line an action: its resources, sorted, and its condition. However the statements are grouped, the
 * same grants read the same.
 */
function eventGrants(statements: Grant[]): Values {
  const found: Record<string, string[]> = {};
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    const resources = listOf(statement.Resource).map(String).sort().join(' ');
    const condition = statement.Condition === undefined ? '' : ` if ${canonical(statement.Condition)}`;
    for (const action of listOf(statement.Action).map(String)) if (/^(sqs|sns):/.test(action)) (found[action] ??= []).push(`${resources}${condition}`);
  }
  return Object.fromEntries(
    Object.entries(found)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, grants]) => [action, grants.sort().join(' | ')]),
  );
}

/** The web role's event grants as the plan has its inline policies (known with the account fixed), or a marker saying which are not known. */
function terraformEventGrants(plan: TerraformPlan): unknown {
  const policies = planned(plan, 'aws_iam_role_policy').filter((policy) => referencedResources(plan, policy.address, ['role']).some((role) => role.address === 'aws_iam_role.web'));
  const statements = policies.flatMap((policy) => (typeof policy.values.policy === 'string' ? (listOf((JSON.parse(policy.values.policy) as { Statement?: unknown }).Statement) as Grant[]) : []));
  const grants = eventGrants(statements);
  const unknown = policies.filter((policy) => knownAfterApply(plan, policy.address, ['policy'])).map((policy) => policy.address);
  return Object.keys(grants).length > 0 ? grants : `<no SQS or SNS grant in the web role's known policies (known after apply: ${unknown.join(', ') || 'none'})>`;
}

/** The instance role's event grants, with the topic the plans are given and the account, partition and region they are read in. */
function cloudFormationEventGrants(frontend: CfnTemplate): unknown {
  const topic = FRONTEND_VARIABLES.order_events_topic_arn;
  const region = topic.split(':')[3]!;
  const statements = policyStatements(frontend)
    .filter(({ where }) => where.startsWith('InstanceRole.Policies.'))
    .map(({ statement }) => {
      const resolved = JSON.stringify(resolveWith(frontend, statement, { OrderEventsTopicArn: topic }));
      return JSON.parse(resolved.replaceAll('${AWS::Partition}', 'aws').replaceAll('${AWS::Region}', region).replaceAll('${AWS::AccountId}', PARITY_ACCOUNT)) as Grant;
    });
  return eventGrants(statements);
}

/** The small shop's frontend parameters (cloudformation/small-shop-frontend.json, create-stack's form). */
function smallShopParameters(): Record<string, string> {
  const entries = JSON.parse(readFileSync(join(repoRoot, 'cloudformation', 'small-shop-frontend.json'), 'utf8')) as { ParameterKey: string; ParameterValue: string }[];
  return Object.fromEntries(entries.map(({ ParameterKey, ParameterValue }) => [ParameterKey, ParameterValue]));
}

/** What the small-shop setting decides, from the web tier's plan with terraform-frontend/small-shop.tfvars. */
function terraformSmallShop(plan: TerraformPlan): Values {
  const instances = planned(plan, 'aws_instance');
  const nat = instances[0];
  const values = nat?.values ?? {};
  const natGroups = nat ? referencedResources(plan, nat.address, ['vpc_security_group_ids']).filter((resource) => resource.type === 'aws_security_group').map((group) => group.address) : [];
  const groupName = (rule: PlannedResource, field: string) =>
    referencedResources(plan, rule.address, [field])
      .filter((resource) => resource.type === 'aws_security_group')
      .map((group) => group.name)
      .join('+');
  const rules = (direction: 'ingress' | 'egress') =>
    planned(plan, `aws_vpc_security_group_${direction}_rule`)
      .filter((rule) => referencedResources(plan, rule.address, ['security_group_id']).some((group) => natGroups.includes(group.address)))
      .map((rule) => {
        const peer = rule.values.referenced_security_group_id != null || knownAfterApply(plan, rule.address, ['referenced_security_group_id']) ? `sg:${groupName(rule, 'referenced_security_group_id')}` : String(rule.values.cidr_ipv4);
        return `${String(rule.values.ip_protocol)} ${String(rule.values.from_port)}-${String(rule.values.to_port)} ${direction === 'ingress' ? 'from' : 'to'} ${peer}`;
      })
      .sort();
  // A private route table's default route: the NAT instance's interface or a NAT gateway, both known after apply.
  const routes = planned(plan, 'aws_route_table')
    .filter((table) => table.name === 'private')
    .map((table) => {
      if (knownAfterApply(plan, table.address, ['route', 0, 'network_interface_id']) && nat && referencedResources(plan, table.address, ['route']).some((resource) => resource.address === nat.address)) return 'the NAT instance';
      if (knownAfterApply(plan, table.address, ['route', 0, 'nat_gateway_id'])) return 'a NAT gateway';
      return `<${JSON.stringify(table.values.route)}>`;
    });
  // The instance is launched from a template of its own (only a template resolves an SSM image at
  // launch): image, type, metadata options, disk, key and role are the template's.
  const template = valuesAt(plan, 'aws_launch_template.nat[0]');
  const metadata = first(template.metadata_options);
  const root = first(first(template.block_device_mappings).ebs);
  const launchTemplate = valuesAt(plan, 'aws_launch_template.web');
  const group = valuesAt(plan, 'aws_autoscaling_group.web');
  const subnets = nat ? referencedResources(plan, nat.address, ['subnet_id']).filter((resource) => resource.type === 'aws_subnet') : [];
  return {
    'smallShop.natGateways': planned(plan, 'aws_nat_gateway').length,
    'smallShop.natAddresses': planned(plan, 'aws_eip').length,
    'smallShop.natInstances': instances.length,
    'smallShop.nat.image': typeof template.image_id === 'string' ? template.image_id.replace(/^resolve:ssm:/, 'ssm:') : undefined,
    'smallShop.nat.instanceType': template.instance_type,
    'smallShop.nat.subnet': subnets.map((subnet) => (subnet.address === 'aws_subnet.public[0]' ? 'the first public subnet' : subnet.address)).join(', ') || '<none>',
    'smallShop.nat.publicAddress': values.associate_public_ip_address,
    'smallShop.nat.sourceDestCheck': values.source_dest_check,
    'smallShop.nat.metadata': `endpoint ${String(metadata.http_endpoint)}, tokens ${String(metadata.http_tokens)}, hop limit ${String(metadata.http_put_response_hop_limit)}`,
    'smallShop.nat.rootVolume': `${String(root.volume_type)} ${String(root.volume_size)} GiB${String(root.encrypted) === 'true' ? ', encrypted' : ''}`,
    'smallShop.nat.keyPair': template.key_name || values.key_name || 'none',
    'smallShop.nat.role': first(template.iam_instance_profile).name || values.iam_instance_profile || 'none',
    'smallShop.nat.monitoring': values.monitoring,
    'smallShop.nat.ingress': rules('ingress'),
    'smallShop.nat.egress': rules('egress'),
    'smallShop.privateRoutes': routes,
    'smallShop.web.instanceType': launchTemplate.instance_type,
    'smallShop.web.capacity': `min ${String(group.min_size)}, desired ${String(group.desired_capacity)}, max ${String(group.max_size)}`,
    'smallShop.web.detailedMonitoring': first(launchTemplate.monitoring).enabled,
    'smallShop.waf.web': plannedResource(plan, 'module.web_waf[0].aws_wafv2_web_acl_association.this') !== undefined,
    'smallShop.interfaceEndpoints': planned(plan, 'aws_vpc_endpoint').filter((endpoint) => endpoint.values.vpc_endpoint_type === 'Interface').length,
  };
}

/** What the small-shop setting decides, from frontend.yaml as a stack with these parameters holds it (a release given, so the group runs). */
function cloudFormationSmallShop(frontend: CfnTemplate, parameters: Record<string, string>): Values {
  const given = { ...parameters, ArtifactKey: 'releases/order-web-parity.tar.gz' };
  const deployed = Object.entries(frontend.Resources).filter(([, resource]) => !resource.Condition || resolveWith(frontend, { Condition: resource.Condition }, given));
  const ofType = (type: string) => deployed.filter(([, resource]) => resource.Type === type);
  const resolved = (id: string | undefined) => (id ? ((resolveWith(frontend, frontend.Resources[id]?.Properties ?? {}, given) ?? {}) as Values) : {});
  const natId = ofType('AWS::EC2::Instance')[0]?.[0];
  const raw = (natId ? frontend.Resources[natId]!.Properties : undefined) ?? {};
  const nat = resolved(natId);
  const network = ((nat.NetworkInterfaces as Values[] | undefined) ?? [])[0] ?? {};
  const natGroup = ((network.GroupSet as { Ref?: string }[] | undefined) ?? [])[0]?.Ref;
  const groupNames: Record<string, string> = { InstanceSecurityGroup: 'instance', LoadBalancerSecurityGroup: 'alb', EndpointSecurityGroup: 'endpoints' };
  const rules = (direction: 'ingress' | 'egress') => {
    const inline = (resolved(natGroup)[direction === 'ingress' ? 'SecurityGroupIngress' : 'SecurityGroupEgress'] as Values[] | undefined) ?? [];
    const standalone = ofType(direction === 'ingress' ? 'AWS::EC2::SecurityGroupIngress' : 'AWS::EC2::SecurityGroupEgress')
      .map(([id]) => resolved(id))
      .filter((rule) => (rule.GroupId as { Ref?: string } | undefined)?.Ref === natGroup);
    return [...inline, ...standalone]
      .map((rule) => {
        const peer = (rule.SourceSecurityGroupId ?? rule.DestinationSecurityGroupId) as { Ref?: string } | undefined;
        return `${String(rule.IpProtocol)} ${String(rule.FromPort)}-${String(rule.ToPort)} ${direction === 'ingress' ? 'from' : 'to'} ${peer ? `sg:${groupNames[peer.Ref ?? ''] ?? String(peer.Ref)}` : String(rule.CidrIp)}`;
      })
      .sort();
  };
  const routes = ofType('AWS::EC2::Route')
    .map(([id]) => resolved(id))
    .filter((route) => String((route.RouteTableId as { Ref?: string } | undefined)?.Ref).startsWith('PrivateRouteTable'))
    .map((route) => (natId !== undefined && (route.InstanceId as { Ref?: string } | undefined)?.Ref === natId ? 'the NAT instance' : route.NatGatewayId !== undefined ? 'a NAT gateway' : `<${JSON.stringify(route)}>`));
  const image = (raw.ImageId as { Ref?: string } | undefined)?.Ref;
  const imageParameter = image ? frontend.Parameters[image] : undefined;
  const metadata = (nat.MetadataOptions as Values | undefined) ?? {};
  const root = (((nat.BlockDeviceMappings as { Ebs?: Values }[] | undefined) ?? [])[0]?.Ebs ?? {});
  const data = (resolved('LaunchTemplate').LaunchTemplateData ?? {}) as Values;
  const group = resolved('WebServerGroup');
  const subnet = (((raw.NetworkInterfaces as Values[] | undefined) ?? [])[0]?.SubnetId as { Ref?: string } | undefined)?.Ref;
  return {
    'smallShop.natGateways': ofType('AWS::EC2::NatGateway').length,
    'smallShop.natAddresses': ofType('AWS::EC2::EIP').length,
    'smallShop.natInstances': ofType('AWS::EC2::Instance').length,
    'smallShop.nat.image': imageParameter?.Type.startsWith('AWS::SSM::Parameter::Value') ? `ssm:${String(imageParameter.Default)}` : JSON.stringify(raw.ImageId),
    'smallShop.nat.instanceType': nat.InstanceType,
    'smallShop.nat.subnet': subnet === 'PublicSubnetA' ? 'the first public subnet' : (subnet ?? '<none>'),
    'smallShop.nat.publicAddress': network.AssociatePublicIpAddress,
    'smallShop.nat.sourceDestCheck': nat.SourceDestCheck,
    'smallShop.nat.metadata': `endpoint ${String(metadata.HttpEndpoint)}, tokens ${String(metadata.HttpTokens)}, hop limit ${String(metadata.HttpPutResponseHopLimit)}`,
    'smallShop.nat.rootVolume': `${String(root.VolumeType)} ${String(root.VolumeSize)} GiB${root.Encrypted === true ? ', encrypted' : ''}`,
    'smallShop.nat.keyPair': nat.KeyName ?? 'none',
    'smallShop.nat.role': nat.IamInstanceProfile ?? 'none',
    'smallShop.nat.monitoring': nat.Monitoring,
    'smallShop.nat.ingress': rules('ingress'),
    'smallShop.nat.egress': rules('egress'),
    'smallShop.privateRoutes': routes,
    'smallShop.web.instanceType': data.InstanceType,
    'smallShop.web.capacity': `min ${String(group.MinSize)}, desired ${String(group.DesiredCapacity)}, max ${String(group.MaxSize)}`,
    'smallShop.web.detailedMonitoring': (data.Monitoring as Values | undefined)?.Enabled,
    'smallShop.waf.web': ofType('AWS::WAFv2::WebACLAssociation').length === 1,
    'smallShop.interfaceEndpoints': ofType('AWS::EC2::VPCEndpoint').filter(([id]) => resolved(id).VpcEndpointType === 'Interface').length,
  };
}

function terraformIacSettings({ backend: plans, frontend }: TerraformPlans): Values {
  const backend = plans.standard;
  const at = (address: string) => valuesAt(backend, address);
  const web = (address: string) => valuesAt(frontend, address);
  /** An alarm's actions as the topics they name: the backend's topic by the name of the one the expression refers to (its ARN is known after apply), the web tier's by the ARN it is given. */
  const actions = (plan: TerraformPlan, alarm: PlannedResource, field: string): unknown => {
    if (knownAfterApply(plan, alarm.address, [field])) return referencedResources(plan, alarm.address, [field]).filter((resource) => resource.type === 'aws_sns_topic').map((topic) => topic.values.name);
    const value = alarm.values[field];
    return Array.isArray(value) ? value.map((arn) => (arn === planVariable(plan, 'ops_alarms_topic_arn') ? OPS : String(arn))) : `<${JSON.stringify(value)}>`;
  };
  /** An alarm in the tools' common terms; a function's alarm also says when it watches another resource than its function. */
  const alarm = (plan: TerraformPlan, resource: PlannedResource | undefined, ofFunction?: string): Values | undefined => {
    if (!resource) return undefined;
    const raw = resource.values;
    const queries = (raw.metric_query as Values[] | undefined) ?? [];
    const metrics = queries.flatMap((query) => ((query.metric as Values[] | undefined) ?? []).map((metric): Values => ({ ...metric, id: query.id }))).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    const onItsFunction = ofFunction === undefined || (raw.dimensions as Values | undefined)?.FunctionName === ofFunction;
    return {
      metric: queries.length > 0 ? `math ${String(queries.find((query) => query.return_data === true)?.expression)} of ${metrics.map((metric) => `${String(metric.id)}=${String(metric.namespace)}/${String(metric.metric_name)}`).join(', ')}` : `${String(raw.namespace)}/${String(raw.metric_name)}${onItsFunction ? '' : ' (on another resource)'}`,
      statistic: queries.length > 0 ? [...new Set(metrics.map((metric) => metric.stat))].join() : raw.statistic,
      comparison: raw.comparison_operator,
      threshold: raw.threshold,
      periodSeconds: queries.length > 0 ? metrics[0]?.period : raw.period,
      evaluationPeriods: raw.evaluation_periods,
      treatMissingData: raw.treat_missing_data,
      actions: actions(plan, resource, 'alarm_actions'),
      okActions: actions(plan, resource, 'ok_actions'),
    };
  };
  const alarms: Record<string, Values | undefined> = {
    dlq: alarm(backend, plannedResource(backend, 'aws_cloudwatch_metric_alarm.dlq_not_empty')),
    'customer-notifications-dlq': alarm(backend, plannedResource(backend, 'aws_cloudwatch_metric_alarm.customer_notifications_dlq_not_empty')),
    backlog: alarm(backend, plannedResource(backend, 'aws_cloudwatch_metric_alarm.orders_backlog')),
    'customer-notifications-age': alarm(backend, plannedResource(backend, 'aws_cloudwatch_metric_alarm.customer_notifications_age')),
    'api-5xx-rate': alarm(backend, plannedResource(backend, 'aws_cloudwatch_metric_alarm.api_5xx_rate')),
    ...Object.fromEntries(Object.entries(WATCH_ALARMS).map(([name, ids]) => [name, alarm(backend, plannedResource(backend, ids.terraform))])),
    'web-5xx': alarm(frontend, plannedResource(frontend, 'aws_cloudwatch_metric_alarm.alb_5xx')),
    'web-unhealthy-hosts': alarm(frontend, plannedResource(frontend, 'aws_cloudwatch_metric_alarm.unhealthy_hosts')),
    'web-no-healthy-hosts': alarm(frontend, plannedResource(frontend, 'aws_cloudwatch_metric_alarm.no_healthy_hosts')),
  };
  // One alarm a function and metric, for_each over the functions: its key is the function's name (no name_prefix in these plans).
  for (const resource of planned(backend, 'aws_cloudwatch_metric_alarm')) {
    if (resource.values.namespace === 'AWS/Lambda' && resource.index !== undefined) alarms[`${String(resource.index)}-${String(resource.values.metric_name).toLowerCase()}`] = alarm(backend, resource, String(resource.index));
  }

  // Security groups: every rule of a group, as "tcp 3000-3000 to sg:instance"; no rule at all is "none"
  // (Terraform removes AWS's default allow-all egress from the groups it creates). A group's id is known
  // after apply: a rule's group, and the group it lets in or out, are those its expressions refer to.
  const groupOf = (rule: PlannedResource, field: string) =>
    referencedResources(frontend, rule.address, [field])
      .filter((resource) => resource.type === 'aws_security_group')
      .map((group) => group.name)
      .join('+') || `<${field} of ${rule.address} refers to no group>`;
  const rules = (direction: 'ingress' | 'egress', group: string): string[] => {
    const found = planned(frontend, `aws_vpc_security_group_${direction}_rule`)
      .filter((rule) => groupOf(rule, 'security_group_id') === group)
      .map((rule) => {
        const { ip_protocol: protocol, from_port: from, to_port: to, cidr_ipv4: cidr, referenced_security_group_id: peerGroup } = rule.values;
        const peer = peerGroup != null || knownAfterApply(frontend, rule.address, ['referenced_security_group_id']) ? `sg:${groupOf(rule, 'referenced_security_group_id')}` : String(cidr);
        return `${String(protocol)} ${from == null && to == null ? 'all' : `${String(from)}-${String(to)}`} ${direction === 'ingress' ? 'from' : 'to'} ${peer}`;
      });
    return found.length > 0 ? found.sort() : ['none'];
  };
  const lambdas = planned(backend, 'aws_lambda_function');
  const logGroups = planned(backend, 'aws_cloudwatch_log_group');
  const stage = at('aws_api_gateway_stage.orders');
  const methodSettings = first(at('aws_api_gateway_method_settings.all').settings);
  const launchTemplate = web('aws_launch_template.web');
  // WAF evaluates rules by priority: listed in that order.
  const wafRules = (acl: Values) =>
    [...((acl.rule as Values[] | undefined) ?? [])]
      .sort((a, b) => Number(a.priority) - Number(b.priority))
      .map((rule) => {
        const statement = first(rule.statement);
        const managed = (statement.managed_rule_group_statement as Values[] | undefined)?.[0];
        const rate = (statement.rate_based_statement as Values[] | undefined)?.[0];
        return `${String(rule.name)}: ${managed ? `${String(managed.vendor_name)}/${String(managed.name)}` : `rate ${String(rate?.limit)} per 5 min by ${String(rate?.aggregate_key_type)}`}`;
      });
  const bucketEncryption = (name: string) => first(first(web(`aws_s3_bucket_server_side_encryption_configuration.${name}`).rule).apply_server_side_encryption_by_default).sse_algorithm ?? 'none';
  // The topics' key is an ARN known after apply: the resource the expression refers to says whose it is.
  const topicKey = (name: string) => (referencedResources(backend, `aws_sns_topic.${name}`, ['kms_master_key_id']).some((resource) => resource.type === 'aws_kms_key') ? 'customer-managed KMS key' : 'none');
  const queueEncryption = (name: string) => {
    const queue = at(`aws_sqs_queue.${name}`);
    return queue.sqs_managed_sse_enabled === true ? 'SSE-SQS' : queue.kms_master_key_id != null || knownAfterApply(backend, `aws_sqs_queue.${name}`, ['kms_master_key_id']) ? 'KMS' : 'none';
  };
  const pool = at('aws_cognito_user_pool.customers');
  const client = at('aws_cognito_user_pool_client.web');
  const authorizer = at('aws_api_gateway_authorizer.customers');
  const methods = planned(backend, 'aws_api_gateway_method');
  const mappingResponses = Object.fromEntries(
    planned(backend, 'aws_lambda_event_source_mapping').map((mapping) => [`eventSourceMapping.${String(referencedNames(backend, mapping.address, ['function_name'], 'aws_lambda_function', 'function_name'))}.functionResponseTypes`, mapping.values.function_response_types]),
  );
  const encrypted = (table: string) => (first(at(`aws_dynamodb_table.${table}`).server_side_encryption).enabled === true ? 'KMS (AWS-managed)' : 'none');
  const recovery = (table: string) => first(at(`aws_dynamodb_table.${table}`).point_in_time_recovery).enabled === true;
  const privateSubnets = planned(frontend, 'aws_subnet').filter((subnet) => subnet.name === 'private');
  const natGateways = planned(frontend, 'aws_nat_gateway');
  return {
    'encryption.table.carts': encrypted('carts'),
    'encryption.table.products': encrypted('products'),
    'encryption.queue.customer-notifications': queueEncryption('customer_notifications'),
    'encryption.queue.customer-notifications-dlq': queueEncryption('customer_notifications_dlq'),
    'pointInTimeRecovery.table.orders': recovery('orders'),
    'pointInTimeRecovery.table.carts': recovery('carts'),
    'pointInTimeRecovery.table.products': recovery('products'),
    'deletionProtection.table.orders': at('aws_dynamodb_table.orders').deletion_protection_enabled,
    'deletionProtection.table.carts': at('aws_dynamodb_table.carts').deletion_protection_enabled,
    'deletionProtection.table.products': at('aws_dynamodb_table.products').deletion_protection_enabled,
    'userPool.deletionProtection': pool.deletion_protection,
    'userPool.advancedSecurityMode': first(pool.user_pool_add_ons).advanced_security_mode,
    'userPool.tier': pool.user_pool_tier,
    'userPool.emailSendingAccount': first(pool.email_configuration).email_sending_account,
    'userPool.mfa': pool.mfa_configuration,
    'userPool.caseSensitiveUsernames': first(pool.username_configuration).case_sensitive,
    'userPool.temporaryPasswordValidityDays': first(pool.password_policy).temporary_password_validity_days,
    'userPool.accountRecovery': ((first(pool.account_recovery_setting).recovery_mechanism as Values[] | undefined) ?? []).map((mechanism) => `${String(mechanism.name)}:${String(mechanism.priority)}`),
    'userPool.client.preventUserExistenceErrors': client.prevent_user_existence_errors,
    'userPool.client.enableTokenRevocation': client.enable_token_revocation,
    'authorizer.type': authorizer.type,
    'authorizer.providers': referencedResources(backend, 'aws_api_gateway_authorizer.customers', ['provider_arns']).map((resource) => (resource.address === 'aws_cognito_user_pool.customers' ? 'the customers\' user pool' : resource.address)),
    'authorizer.identitySource': authorizer.identity_source,
    'api.routesWithoutApiKey': methods
      .filter((method) => method.values.api_key_required !== true)
      .map((method) => routeOf(backend, method))
      .sort(),
    'customerNotifications.subscription.filterPolicyScope': at('aws_sns_topic_subscription.customer_notifications').filter_policy_scope,
    ...mappingResponses,
    'ses.senderIdentity': at('aws_sesv2_email_identity.customer_mail_from').email_identity === planVariable(backend, 'customer_mail_from') ? 'the customer mail sender' : String(at('aws_sesv2_email_identity.customer_mail_from').email_identity),
    // The plan cannot render the user data: it names the artifact bucket, whose name is known after
    // apply. Its template is read instead; the rehearsal reads the user data of the launch template on moto.
    'web.envFileKeys': envFileKeys(readFileSync(join(repoRoot, 'terraform-frontend', 'user-data.sh.tftpl'), 'utf8')),
    'encryption.queue.orders': queueEncryption('orders'),
    'encryption.queue.orders-dlq': queueEncryption('orders_dlq'),
    'encryption.table.orders': encrypted('orders'),
    'encryption.topic.ops-alarms': topicKey('ops_alarms'),
    'encryption.topic.order-events': topicKey('order_events'),
    'encryption.bucket.artifacts': bucketEncryption('artifacts'),
    'encryption.bucket.access-logs': bucketEncryption('access_logs'),
    'encryption.volume.root': String(first(first(launchTemplate.block_device_mappings).ebs).encrypted) === 'true',
    // Each function's log group is the one Lambda writes to by default, /aws/lambda/<its name>.
    ...Object.fromEntries(
      lambdas.map((fn) => {
        const name = `/aws/lambda/${String(fn.values.function_name)}`;
        return [`logRetention.lambda.${String(fn.values.function_name)}`, logGroups.find((group) => group.values.name === name)?.values.retention_in_days ?? `<no log group ${name}>`];
      }),
    ),
    'logRetention.api.access': at('aws_cloudwatch_log_group.api_access').retention_in_days,
    'logRetention.api.execution': at('aws_cloudwatch_log_group.api_execution').retention_in_days,
    'logRetention.web.accessLogs': first(first(web('aws_s3_bucket_lifecycle_configuration.access_logs').rule).expiration).days,
    ...(Object.assign({}, ...alarmNames(functions).map((name) => alarmValues(name, alarms[name]))) as Values),
    'securityGroup.alb.ingress': rules('ingress', 'alb'),
    'securityGroup.alb.egress': rules('egress', 'alb'),
    'securityGroup.instance.ingress': rules('ingress', 'instance'),
    'securityGroup.instance.egress': rules('egress', 'instance'),
    'waf.api.enabled': plannedResource(backend, 'module.api_waf[0].aws_wafv2_web_acl.this') !== undefined,
    'waf.api.associated': plannedResource(backend, 'module.api_waf[0].aws_wafv2_web_acl_association.this') !== undefined,
    'waf.api.rules': wafRules(valuesAt(backend, 'module.api_waf[0].aws_wafv2_web_acl.this')),
    'waf.web.enabled': plannedResource(frontend, 'module.web_waf[0].aws_wafv2_web_acl.this') !== undefined,
    'waf.web.associated': plannedResource(frontend, 'module.web_waf[0].aws_wafv2_web_acl_association.this') !== undefined,
    'waf.web.rules': wafRules(web('module.web_waf[0].aws_wafv2_web_acl.this')),
    'tracing.lambda': shared(lambdas.map((fn) => first(fn.values.tracing_config).mode ?? 'none')),
    'tracing.apiStage': stage.xray_tracing_enabled === true,
    'apiLogging.level': methodSettings.logging_level,
    'apiLogging.dataTrace': methodSettings.data_trace_enabled,
    'apiLogging.metrics': methodSettings.metrics_enabled,
    'apiLogging.accessLogFields': first(stage.access_log_settings).format ?? 'none',
    'web.loadBalancerName': web('aws_lb.web').name,
    // As web.envFileKeys: the plan cannot render the user data, so its template is read.
    ...Object.fromEntries((['UNIT', 'AGENT', 'ROTATE'] as const).map((tag) => [`web.userData.${tag}`, heredoc(readFileSync(join(repoRoot, 'terraform-frontend', 'user-data.sh.tftpl'), 'utf8'), tag)])),
    'web.instancePublicIp': String(first(launchTemplate.network_interfaces).associate_public_ip_address) === 'true',
    // The subnets' ids are known after apply: the group's are those of the local it refers to.
    'web.instanceSubnets': expressionReferences(frontend, 'aws_autoscaling_group.web', ['vpc_zone_identifier']).includes('local.private_subnet_ids') ? 'private' : JSON.stringify(expressionReferences(frontend, 'aws_autoscaling_group.web', ['vpc_zone_identifier'])),
    'web.natGatewayPerZone': natGateways.length > 1 && natGateways.length === privateSubnets.length,
    'web.interfaceEndpoints': planned(frontend, 'aws_vpc_endpoint').some((endpoint) => endpoint.values.vpc_endpoint_type === 'Interface'),
    // The small-shop variables at their defaults (the small shop itself has its own test), and the live status's grants and queue prefix.
    'web.natInstance': planVariable(frontend, 'nat_instance'),
    'web.natInstances': planned(frontend, 'aws_instance').length,
    'web.natInstanceType': planVariable(frontend, 'nat_instance_type'),
    'web.detailedMonitoring': first(launchTemplate.monitoring).enabled,
    'web.eventQueuePrefix': (frontend as { planned_values: { outputs?: Record<string, { value?: unknown }> } }).planned_values.outputs?.event_queue_prefix?.value,
    'web.role.eventGrants': terraformEventGrants(frontend),
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
    'customer-notifications-age': alarm(backend, props(backend, 'CustomerNotificationsAgeAlarm')),
    'api-5xx-rate': alarm(backend, props(backend, 'Api5xxRateAlarm')),
    ...Object.fromEntries(Object.entries(WATCH_ALARMS).map(([name, ids]) => [name, alarm(backend, props(backend, ids.cloudformation))])),
    'web-5xx': alarm(frontend, props(frontend, 'LoadBalancer5xxAlarm')),
    'web-unhealthy-hosts': alarm(frontend, props(frontend, 'UnhealthyHostsAlarm')),
    'web-no-healthy-hosts': alarm(frontend, props(frontend, 'NoHealthyHostsAlarm')),
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
    // Fn::If: the branch taken with the parameters' defaults and the certificate a deployment needs
    // (FRONTEND_VARIABLES gives Terraform one too): 80 and 443.
    const taken = (inline ?? []).flatMap((rule): Values[] => {
      const choice = (rule as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If'];
      const value = (choice ? choice[1] : rule) as Values;
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
  const mappingResponses = Object.fromEntries(
    resourcesOfType(backend, 'AWS::Lambda::EventSourceMapping').map(([, mapping]) => [`eventSourceMapping.${byFunction.get((mapping.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref ?? '') ?? JSON.stringify(mapping.Properties?.FunctionName)}.functionResponseTypes`, mapping.Properties?.FunctionResponseTypes]),
  );
  const recovery = (id: string) => (props(backend, id)?.PointInTimeRecoverySpecification as Values | undefined)?.PointInTimeRecoveryEnabled === true;
  const userData = ((props(frontend, 'LaunchTemplate')?.LaunchTemplateData as { UserData?: { 'Fn::Base64'?: { 'Fn::Sub'?: string } } } | undefined)?.UserData?.['Fn::Base64']?.['Fn::Sub']) ?? '';
  return {
    'encryption.table.carts': (props(backend, 'CartsTable')?.SSESpecification as Values | undefined)?.SSEEnabled === true ? 'KMS (AWS-managed)' : 'none',
    'encryption.table.products': (props(backend, 'ProductsTable')?.SSESpecification as Values | undefined)?.SSEEnabled === true ? 'KMS (AWS-managed)' : 'none',
    'encryption.queue.customer-notifications': queueEncryption('CustomerNotificationsQueue'),
    'encryption.queue.customer-notifications-dlq': queueEncryption('CustomerNotificationsDeadLetterQueue'),
    'pointInTimeRecovery.table.orders': recovery('OrdersTable'),
    'pointInTimeRecovery.table.carts': recovery('CartsTable'),
    'pointInTimeRecovery.table.products': recovery('ProductsTable'),
    'deletionProtection.table.orders': decided(backend, props(backend, 'OrdersTable')?.DeletionProtectionEnabled),
    'deletionProtection.table.carts': decided(backend, props(backend, 'CartsTable')?.DeletionProtectionEnabled),
    'deletionProtection.table.products': decided(backend, props(backend, 'ProductsTable')?.DeletionProtectionEnabled),
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
    'web.loadBalancerName': resolveWith(frontend, props(frontend, 'LoadBalancer')?.Name),
    ...Object.fromEntries((['UNIT', 'AGENT', 'ROTATE'] as const).map((tag) => [`web.userData.${tag}`, heredoc(userData.replace(/^ {0,12}/gm, ''), tag, true)])),
    'web.instancePublicIp': data.NetworkInterfaces?.[0]?.AssociatePublicIpAddress === true,
    'web.instanceSubnets': zones && zones.every((zone) => zone.Ref.startsWith('PrivateSubnet')) ? 'private' : JSON.stringify(zones),
    'web.natGatewayPerZone': v(frontend, { Ref: 'NatGatewayPerZone' }) === 'true',
    'web.interfaceEndpoints': v(frontend, { Ref: 'VpcInterfaceEndpoints' }) === 'true',
    'web.natInstance': v(frontend, { Ref: 'NatInstance' }) === 'true',
    'web.natInstances': resourcesOfType(frontend, 'AWS::EC2::Instance').filter(([, instance]) => !instance.Condition || resolveWith(frontend, { Condition: instance.Condition })).length,
    'web.natInstanceType': v(frontend, { Ref: 'NatInstanceType' }),
    'web.detailedMonitoring': resolveWith(frontend, ((props(frontend, 'LaunchTemplate')?.LaunchTemplateData as Values | undefined)?.Monitoring as Values | undefined)?.Enabled),
    'web.eventQueuePrefix': resolveWith(frontend, frontend.Outputs.EventQueuePrefix?.Value),
    'web.role.eventGrants': cloudFormationEventGrants(frontend),
  };
}


/** The access log format as its field names, so the two tools' JSON strings compare whatever their key order. */
function normaliseAccessLogFields(values: Values): Values {
  const raw = values['apiLogging.accessLogFields'];
  return { ...values, 'apiLogging.accessLogFields': typeof raw === 'string' && raw.startsWith('{') ? (JSON.parse(raw) as unknown) : raw };
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
function deploymentGaps(declaration: Declaration, terraform: TerraformPlan, cloudFormation: CfnTemplate): string[] {
  const declared = Object.keys(declaration);
  const inTerraform = planned(terraform, 'aws_lambda_function').map((fn) => String(fn.values.function_name));
  const inCloudFormation = [...deployedFunctions(cloudFormation).keys()];
  return [
    ...declared.filter((name) => !inTerraform.includes(name)).map((name) => `${name} is declared in platform/functions.json, but terraform-backend does not deploy it (no aws_lambda_function whose function_name is ${name} in its plan)`),
    ...declared.filter((name) => !inCloudFormation.includes(name)).map((name) => `${name} is declared in platform/functions.json, but dist/cloudformation/backend.yaml does not deploy it (no AWS::Lambda::Function whose FunctionName is ${name})`),
    ...inTerraform.filter((name) => !declared.includes(name)).map((name) => `terraform-backend's plan deploys ${name}, which platform/functions.json does not declare`),
    ...inCloudFormation.filter((name) => !declared.includes(name)).map((name) => `dist/cloudformation/backend.yaml deploys ${name}, which platform/functions.json does not declare`),
  ];
}

const escape = (key: string) => key.replace(/[.$()[\]{}+*?|^\\]/g, '\\$&');

/** Every alarm field of one alarm, as the disagreement each would be when that alarm is missing on the CloudFormation side. */
function alarmValuesKeys(name: string): RegExp[] {
  return Object.keys(alarmValues(name, {}))
    .sort()
    .map((key) => new RegExp(`^${escape(key)}: .*cloudformation="<no ${escape(name)} alarm>"$`));
}


// ---------------------------------------------------------------- planning, and edits to Terraform's files

/** One terraform plan's outer limit; plans run side by side on a two-core machine. */
const PLAN_TIMEOUT_MS = 300_000;

/** The backend's required inputs (any well-formed values do for a plan); everything else keeps its default. */
const BACKEND_VARIABLES = {
  alarm_email: 'ops@example.com',
  customer_mail_from: 'orders@shop.example',
  // Set so that the optional order-events mail subscription, and its filter policy, are in the plan.
  order_events_email: 'orders@example.com',
};

/** The web tier's required inputs, the backend's outputs: any well-formed values do for a plan. */
const FRONTEND_VARIABLES = {
  // Needed unless allow_insecure_http, and compared with the template's HasCertificate branches.
  certificate_arn: 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
  api_base_url: 'https://abc123.execute-api.us-east-1.amazonaws.com/v1',
  api_key_parameter_name: '/order-pipeline/api-key',
  ops_alarms_topic_arn: 'arn:aws:sns:us-east-1:123456789012:ops-alarms',
  order_events_topic_arn: 'arn:aws:sns:us-east-1:123456789012:order-events',
  cognito_user_pool_id: 'us-east-1_AbCdEf123',
  cognito_client_id: 'abc123def456',
  cognito_issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123',
};

/**
 * A change to one tool's files, made in a copy of its module: an override file (Terraform merges
 * *_override.tf over the module's own files) and replacements of text the file holds exactly once.
 */
interface TerraformEdit {
  what: string;
  module: ModuleName;
  override?: string;
  replace?: { file: string; from: string; to: string }[];
  /** Which comparison it shows in: the settings of all three sources, their queue-type keys, or what only the tools share. */
  shows: 'settings' | 'queueType' | 'iac';
  /** The disagreements it must cause, each exactly once. */
  expected: RegExp[];
}

async function applyEdits(dir: string, edits: TerraformEdit[]): Promise<void> {
  for (const [n, edit] of edits.entries()) {
    if (edit.override) await writeFile(join(dir, `parity_edit_${n}_override.tf`), edit.override);
    for (const { file, from, to } of edit.replace ?? []) {
      const text = await readFile(join(dir, file), 'utf8');
      const times = text.split(from).length - 1;
      if (times !== 1) throw new Error(`${edit.what}: ${JSON.stringify(from)} occurs ${times} times in ${edit.module}/${file}, not once`);
      await writeFile(join(dir, file), text.replace(from, to));
    }
  }
}

const variableDefaultOverride = (name: string, value: string) => `variable "${name}" {\n  default = ${value}\n}\n`;
const resourceOverride = (type: string, name: string, body: string) => `resource "${type}" "${name}" {\n${body}\n}\n`;

/**
 * Changes to Terraform's files only, all made in one copy of each module and planned once (standard,
 * fifo and the web tier): each changes keys of its own, so each must show as its own disagreements.
 */
const TERRAFORM_EDITS: TerraformEdit[] = [
  // Both queues redrive after max_receive_count receives.
  { what: 'the redrive count', module: 'terraform-backend', shows: 'settings', override: variableDefaultOverride('max_receive_count', '4'), expected: [/^customerNotifications\.queue\.maxReceiveCount: terraform=4,/, /^queue\.maxReceiveCount: terraform=4,/] },
  { what: 'the kitchen\'s timeout', module: 'terraform-backend', shows: 'settings', override: variableDefaultOverride('lambda_functions', '{ "advance-orders" = { timeout_seconds = 61 } }'), expected: [/^lambda\.advance-orders\.timeoutSeconds: terraform=61,/] },
  { what: 'the schedule', module: 'terraform-backend', shows: 'settings', override: variableDefaultOverride('kitchen_schedule_expression', '"rate(2 minutes)"'), expected: [/^lambda\.advance-orders\.trigger\.expression: terraform="rate\(2 minutes\)",/, /^alarm\.kitchen-stopped\.periodSeconds: terraform=600, cloudformation=300$/] },
  { what: 'a timing', module: 'terraform-backend', shows: 'settings', override: variableDefaultOverride('order_timings_seconds', '{ RECEIVED = 60, PREPARING = 600, READY = 30 }'), expected: [/^lifecycle\.timingsSeconds: terraform=\{"PREPARING":600,"READY":30,"RECEIVED":60\},/] },
  {
    what: 'a binding: the carts table\'s name given as the orders table\'s',
    module: 'terraform-backend',
    shows: 'settings',
    replace: [{ file: 'main.tf', from: '= aws_dynamodb_table.carts.name', to: '= aws_dynamodb_table.orders.name' }],
    expected: [/^lambda\.cart\.environment: terraform=\{[^}]*"CARTS_TABLE_NAME":"orders-table-name"/],
  },
  {
    what: 'the due-orders projection',
    module: 'terraform-backend',
    shows: 'settings',
    replace: [{ file: 'table.tf', from: '["customer_id", "customer_email", "status", "version", "pending_event"]', to: '["customer_id", "status", "version"]' }],
    expected: [/^table\.index\.due-orders\.nonKeyAttributes: terraform=\["customer_id","status","version"\],/],
  },
  { what: 'the rule\'s permission', module: 'terraform-backend', shows: 'settings', override: resourceOverride('aws_lambda_permission', 'kitchen_schedule', '  count = 0'), expected: [/^lambda\.advance-orders\.trigger: terraform="schedule without a lambda permission for its rule",/] },
  {
    what: 'the customer mail filter',
    module: 'terraform-backend',
    shows: 'settings',
    override: resourceOverride('aws_sns_topic_subscription', 'customer_notifications', '  filter_policy = jsonencode({ event_type = ["order.received"] })'),
    expected: [/^customerNotifications\.subscription\.filterPolicy: terraform=\{"event_type":\["order\.received"\]\}, cloudformation=\{"customer_mail":\["true"\],"event_type":\["order\.received","order\.status_changed"\]\},/],
  },
  { what: 'raw delivery off', module: 'terraform-backend', shows: 'settings', override: resourceOverride('aws_sns_topic_subscription', 'customer_notifications', '  raw_message_delivery = false'), expected: [/^customerNotifications\.subscription\.rawMessageDelivery: terraform=false,/] },
  {
    what: 'a /me route without the authorizer',
    module: 'terraform-backend',
    shows: 'settings',
    override: resourceOverride(
      'aws_api_gateway_method',
      'route',
      [
        '  authorization = each.value.authorizer == "cognito" && each.key != "GET /me/orders" ? "COGNITO_USER_POOLS" : "NONE"',
        '  authorizer_id = each.value.authorizer == "cognito" && each.key != "GET /me/orders" ? aws_api_gateway_authorizer.customers.id : null',
      ].join('\n'),
    ),
    expected: [/^lambda\.my-orders\.trigger\.authorizer: terraform="cognito\+none", cloudformation="cognito", local="cognito"$/],
  },
  { what: 'the carts TTL attribute', module: 'terraform-backend', shows: 'settings', override: resourceOverride('aws_dynamodb_table', 'carts', '  ttl {\n    attribute_name = "ttl"\n    enabled        = true\n  }'), expected: [/^carts\.ttlAttribute: terraform="ttl", cloudformation="expires_at", local="expires_at"$/] },
  { what: 'a TTL on the products', module: 'terraform-backend', shows: 'settings', override: resourceOverride('aws_dynamodb_table', 'products', '  ttl {\n    attribute_name = "expires_at"\n    enabled        = true\n  }'), expected: [/^products\.ttlAttribute: terraform="expires_at", cloudformation="none", local="none"$/] },
  {
    what: 'the account-orders projection',
    module: 'terraform-backend',
    shows: 'settings',
    replace: [{ file: 'table.tf', from: '["status", "version", "lines", "total_cents", "currency", "order_date", "status_history"]', to: '["status"]' }],
    expected: [/^table\.index\.account-orders\.nonKeyAttributes: terraform=\["status"\],/],
  },
  {
    what: 'the password length',
    module: 'terraform-backend',
    shows: 'settings',
    override: variableDefaultOverride('user_pool_password_policy', '{ minimum_length = 12, require_lowercase = true, require_uppercase = true, require_numbers = true, require_symbols = false }'),
    expected: [/^userPool\.passwordPolicy: terraform=\{"MinimumLength":12,/],
  },
  { what: 'the refresh token\'s validity', module: 'terraform-backend', shows: 'settings', override: variableDefaultOverride('user_pool_refresh_token_validity_days', '7'), expected: [/^userPool\.client\.refreshTokenValidity: terraform="7 days", cloudformation="30 days", local="30 days"$/] },
  // cart and checkout are given the new value too (CART_TTL_SECONDS): still the cart-ttl-seconds binding.
  { what: 'the cart TTL', module: 'terraform-backend', shows: 'settings', override: variableDefaultOverride('cart_ttl_seconds', '3600'), expected: [/^cart\.ttlSeconds: terraform=3600, cloudformation=604800, local=604800$/] },

  { what: 'the orders queue unencrypted', module: 'terraform-backend', shows: 'iac', override: resourceOverride('aws_sqs_queue', 'orders', '  sqs_managed_sse_enabled = false'), expected: [/^encryption\.queue\.orders: terraform="none", cloudformation="SSE-SQS"$/] },
  // Both dead-letter queues' alarms fire at dlq_alarm_threshold.
  { what: 'the DLQ alarm\'s threshold', module: 'terraform-backend', shows: 'iac', override: variableDefaultOverride('dlq_alarm_threshold', '2'), expected: [/^alarm\.customer-notifications-dlq\.threshold: terraform=2, cloudformation=1$/, /^alarm\.dlq\.threshold: terraform=2, cloudformation=1$/, /^alarm\.threshold: terraform=2, cloudformation=1, local=1$/] },
  {
    what: 'the log retention',
    module: 'terraform-backend',
    shows: 'iac',
    override: variableDefaultOverride('log_retention_days', '14'),
    expected: [/^logRetention\.api\.access: terraform=14/, /^logRetention\.api\.execution: terraform=14/, ...Object.keys(functions).map((name) => new RegExp(`^logRetention\\.lambda\\.${name}: terraform=14`))],
  },
  { what: 'WAF off on the load balancer', module: 'terraform-frontend', shows: 'iac', override: variableDefaultOverride('waf_enabled', 'false'), expected: [/^waf\.web\.associated: terraform=false/, /^waf\.web\.enabled: terraform=false/, /^waf\.web\.rules: terraform=\[\]/] },
  {
    what: 'the ALB group opened to everything',
    module: 'terraform-frontend',
    shows: 'iac',
    override: resourceOverride('aws_vpc_security_group_egress_rule', 'alb_to_instances', ['  ip_protocol                  = "-1"', '  from_port                    = null', '  to_port                      = null', '  cidr_ipv4                    = "0.0.0.0/0"', '  referenced_security_group_id = null'].join('\n')),
    expected: [/^securityGroup\.alb\.egress: terraform=\["-1 all to 0\.0\.0\.0\/0"\], cloudformation=\["tcp 3000-3000 to sg:instance"\]$/],
  },
  {
    what: 'the kitchen\'s throttle alarm watching another function',
    module: 'terraform-backend',
    shows: 'iac',
    override: resourceOverride('aws_cloudwatch_metric_alarm', 'lambda_throttles', '  dimensions = { FunctionName = aws_lambda_function.this[each.key == "advance-orders" ? "submit-order" : each.key].function_name }'),
    expected: [/^alarm\.advance-orders-throttles\.metric: terraform="AWS\/Lambda\/Throttles \(on another resource\)", cloudformation="AWS\/Lambda\/Throttles"$/],
  },
  { what: 'the carts table unencrypted', module: 'terraform-backend', shows: 'iac', override: resourceOverride('aws_dynamodb_table', 'carts', '  server_side_encryption {\n    enabled = false\n  }'), expected: [/^encryption\.table\.carts: terraform="none", cloudformation="KMS \(AWS-managed\)"$/] },
  { what: 'the products table unencrypted', module: 'terraform-backend', shows: 'iac', override: resourceOverride('aws_dynamodb_table', 'products', '  server_side_encryption {\n    enabled = false\n  }'), expected: [/^encryption\.table\.products: terraform="none", cloudformation="KMS \(AWS-managed\)"$/] },
  { what: 'threat protection on', module: 'terraform-backend', shows: 'iac', override: variableDefaultOverride('user_pool_advanced_security_mode', '"AUDIT"'), expected: [/^userPool\.advancedSecurityMode: terraform="AUDIT", cloudformation="OFF"$/, /^userPool\.tier: terraform="PLUS", cloudformation="ESSENTIALS"$/] },

  // The provider itself refuses, at plan, a FIFO queue named without .fifo and a standard one with
  // content-based deduplication: these edits are the ones a plan accepts.
  {
    what: 'the FIFO DLQ made standard',
    module: 'terraform-backend',
    shows: 'queueType',
    override: resourceOverride('aws_sqs_queue', 'orders_dlq', ['  name       = "${var.name_prefix}${var.dead_letter_queue_name}"', '  fifo_queue = false'].join('\n')),
    expected: [/^queueType\.fifo\.deadLetterQueueFifo: terraform=false, cloudformation=true, local=true$/, /^queueType\.fifo\.deadLetterQueueName: terraform="orders-dlq", cloudformation="orders-dlq\.fifo", local="orders-dlq\.fifo"$/, /^queueType\.fifo\.redrivesTo: terraform="orders-dlq",/],
  },
  { what: 'content-based deduplication on FIFO', module: 'terraform-backend', shows: 'queueType', override: resourceOverride('aws_sqs_queue', 'orders', '  content_based_deduplication = local.queue_type.fifo_queue'), expected: [/^queueType\.fifo\.contentBasedDeduplication: terraform=true, cloudformation=false, local=false$/] },
  {
    what: 'a batching window on FIFO',
    module: 'terraform-backend',
    shows: 'queueType',
    replace: [{ file: 'queues.tf', from: 'maximum_batching_window_in_seconds = null', to: 'maximum_batching_window_in_seconds = 0' }],
    expected: [/^queueType\.fifo\.maximumBatchingWindowSeconds: terraform=0, cloudformation="none", local="none"$/],
  },
  { what: 'fifo by default', module: 'terraform-backend', shows: 'queueType', override: variableDefaultOverride('queue_type', '"fifo"'), expected: [/^queue\.type: terraform="fifo", cloudformation="standard", local="standard"$/] },
];

/** The kitchen taken out of terraform-backend: its function, and what names it (the schedule's target and permission, an output), no longer planned. */
const WITHOUT_KITCHEN: TerraformEdit = {
  what: 'the kitchen taken out',
  module: 'terraform-backend',
  shows: 'settings',
  replace: [{ file: 'main.tf', from: '      permissions     = f.permissions\n    }\n  }', to: '      permissions     = f.permissions\n    } if name != "advance-orders"\n  }' }],
  override: [
    resourceOverride('aws_cloudwatch_event_target', 'kitchen', '  count = 0'),
    resourceOverride('aws_lambda_permission', 'kitchen_schedule', '  count = 0'),
    'output "kitchen_error_alarm_name" {\n  value = null\n}\n',
  ].join('\n'),
  expected: [],
};

/** The sessions made by this file, removed when it ends. */
const sessions: TerraformSession[] = [];
let moto: Moto | undefined;

/**
 * The plan of a copy of one module with the edits made to it: the backend offline (it has no data
 * source), the web tier against moto (its zone lookup asks EC2; a plan creates nothing there).
 */
// Two plans at a time: each is an AWS provider at full CPU, and the rehearsal applies to moto beside this file.
const planSlots = pLimit(2);

function planOf(module: ModuleName, edits: TerraformEdit[], queueType: QueueType = 'standard', varFiles: string[] = []): Promise<TerraformPlan> {
  return planSlots(() => planNow(module, edits, queueType, varFiles));
}

/**
 * The account and partition the web tier's module reads from its role's ARN, known after apply: fixed
 * in the copy (its locals overridden), so that the plan shows the role's event queue policy whole, as
 * the template's is read with the same account.
 */
const FRONTEND_ACCOUNT_OVERRIDE = `locals {\n  partition  = "aws"\n  account_id = "${PARITY_ACCOUNT}"\n}\n`;

/** `varFiles` (paths in the repository, such as terraform-frontend/small-shop.tfvars) are given to the plan as *.auto.tfvars of the copy. */
async function planNow(module: ModuleName, edits: TerraformEdit[], queueType: QueueType, varFiles: string[] = []): Promise<TerraformPlan> {
  const session = await createTerraformSession([module]);
  sessions.push(session);
  const dir = session.workspaces.get(module)!.dir;
  await applyEdits(
    dir,
    edits.filter((edit) => edit.module === module),
  );
  for (const [n, file] of varFiles.entries()) {
    const text = await readFile(join(repoRoot, file), 'utf8').catch(() => {
      throw new Error(`${file} is missing: the parity plans the module with it`);
    });
    await writeFile(join(dir, `parity_${n}.auto.tfvars`), text);
  }
  if (module === 'terraform-frontend') {
    await writeFile(join(dir, 'moto_override.tf'), `provider "aws" {\n  endpoints {\n    ec2 = ${JSON.stringify(moto!.endpoint)}\n  }\n}\n`);
    await writeFile(join(dir, 'parity_account_override.tf'), FRONTEND_ACCOUNT_OVERRIDE);
    // A plan only hashes the web tier's build.
    const artifact = join(session.root, 'order-web.tar.gz');
    await writeFile(artifact, 'the web tier\'s build');
    return offlinePlan(session, module, { ...FRONTEND_VARIABLES, web_artifact_path: artifact }, PLAN_TIMEOUT_MS);
  }
  // A plan only hashes the functions' packages: a placeholder for each declared function.
  const packages = join(session.root, 'packages');
  await mkdir(packages);
  await Promise.all(Object.keys(functions).map((name) => writeFile(join(packages, `${name}.zip`), `${name}'s package`)));
  return offlinePlan(session, module, { ...BACKEND_VARIABLES, queue_type: queueType, lambda_package_dir: packages }, PLAN_TIMEOUT_MS);
}

/** The three plans of one comparison, made side by side. */
async function plansOf(edits: TerraformEdit[]): Promise<TerraformPlans> {
  const [standard, fifo, frontend] = await Promise.all([planOf('terraform-backend', edits, 'standard'), planOf('terraform-backend', edits, 'fifo'), planOf('terraform-frontend', edits)]);
  return { backend: { standard, fifo }, frontend };
}

/** The logical id of the template's method for a route ("GET /me/orders/{id}"), whatever the generator names it. */
function cloudFormationMethodId(template: CfnTemplate, route: string): string {
  const pathOf = (reference: unknown): string => {
    const id = (reference as { Ref?: string } | undefined)?.Ref;
    const resource = id ? template.Resources[id]?.Properties : undefined;
    return resource ? `${pathOf(resource.ParentId)}/${String(resource.PathPart)}` : '';
  };
  const found = resourcesOfType(template, 'AWS::ApiGateway::Method').find(([, method]) => `${String(method.Properties?.HttpMethod)} ${pathOf(method.Properties?.ResourceId)}` === route);
  if (!found) throw new Error(`No AWS::ApiGateway::Method for ${route} in the template`);
  return found[0];
}

/** Why the comparison cannot run here: it needs terraform with the provider mirror, and moto for the web tier's plan. */
const missing = terraformUnavailableReason() ?? motoMissing();

gate('the parity of Terraform\'s plans, CloudFormation and the local stack', missing).describe('parity of Terraform, CloudFormation and the local stack', () => {
  let plans: TerraformPlans;
  /** The plans with TERRAFORM_EDITS made, and the backend's without the kitchen: started with the others, awaited by the tests that read them. */
  let edited: Promise<TerraformPlans> | undefined;
  let withoutKitchen: Promise<TerraformPlan> | undefined;
  /** The web tier and the backend planned with their small-shop.tfvars, started with the others. */
  let smallShop: Promise<TerraformPlan> | undefined;
  let smallShopBackend: Promise<TerraformPlan> | undefined;
  let sources: Record<string, Values>;
  /** What only the two tools share (encryption, retention, alarms, security groups, WAF, tracing, API logging). */
  let iac: Record<string, Values>;
  const terraformIac = (terraformPlans: TerraformPlans) => normaliseAccessLogFields(terraformIacSettings(terraformPlans));
  const cloudFormationIac = (b: CfnTemplate, f: CfnTemplate) => normaliseAccessLogFields(cloudFormationIacSettings(b, f));
  const isQueueTypeKey = (line: string) => /^(queue\.type|queueType\.)/.test(line);

  /**
   * TERRAFORM_EDITS of one kind, read from the edited plans: each pattern of each edit matches exactly
   * one disagreement (of any comparison: an edit may show in two), and every disagreement of that
   * kind's comparison is one some edit expects.
   */
  const expectEditsNamed = async (shows: TerraformEdit['shows']) => {
    const changed = await edited!;
    const ofSources = disagreements({ ...sources, terraform: terraformSettings(changed) });
    const found = { settings: ofSources.filter((line) => !isQueueTypeKey(line)), queueType: ofSources.filter(isQueueTypeKey), iac: disagreements({ ...iac, terraform: terraformIac(changed) }) };
    const all = [...found.settings, ...found.queueType, ...found.iac];
    for (const { what, expected } of TERRAFORM_EDITS.filter((edit) => edit.shows === shows)) {
      const counted = expected.map((pattern) => `${String(pattern)} found ${all.filter((line) => pattern.test(line)).length} times`);
      expect({ what, counted }).toEqual({ what, counted: expected.map((pattern) => `${String(pattern)} found 1 times`) });
    }
    expect({ unexplained: found[shows].filter((line) => !TERRAFORM_EDITS.some(({ expected }) => expected.some((pattern) => pattern.test(line)))) }).toEqual({ unexplained: [] });
  };
  beforeAll(async () => {
    const started = Date.now();
    moto = await startMoto();
    const base = plansOf([]);
    edited = plansOf(TERRAFORM_EDITS);
    withoutKitchen = planOf('terraform-backend', [WITHOUT_KITCHEN]);
    smallShop = planOf('terraform-frontend', [], 'standard', ['terraform-frontend/small-shop.tfvars']);
    smallShopBackend = planOf('terraform-backend', [], 'standard', ['terraform-backend/small-shop.tfvars']);
    // A failure of these is the failure of the tests that read them, not of the whole file.
    edited.catch(() => undefined);
    withoutKitchen.catch(() => undefined);
    smallShop.catch(() => undefined);
    smallShopBackend.catch(() => undefined);
    plans = await base;
    console.log(`parity: the default plans (backend standard and fifo, web tier) took ${Math.round((Date.now() - started) / 1000)} s, beside the edited ones`);
    sources = {
      terraform: terraformSettings(plans),
      cloudformation: cloudFormationSettings(loadTemplate('backend'), loadTemplate('frontend')),
      local: localSettings(settings, functions),
    };
    iac = { terraform: terraformIac(plans), cloudformation: cloudFormationIac(loadTemplate('backend'), loadTemplate('frontend')) };
  }, PLAN_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await Promise.allSettled([edited, withoutKitchen, smallShop, smallShopBackend]);
    moto?.stop();
    await Promise.all(sessions.map((session) => removeTerraformSession(session)));
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
    expect(iac.terraform!['alarm.advance-orders-throttles.actions']).toEqual([OPS]);
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

  it('when queue or table encryption, an alarm, the ALB group\'s egress, a log retention or WAF is changed in one tool\'s files, then the parity fails naming it', async () => {
    await expectEditsNamed('iac');

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
      ['a /me route without the API key', (b) => (b.Resources[cloudFormationMethodId(b, 'GET /me/orders/{id}')]!.Properties!.ApiKeyRequired = false), [/^api\.routesWithoutApiKey: terraform=\[\], cloudformation=\["GET \/me\/orders\/\{id\}"\]$/]],
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
      const found = disagreements({ ...iac, cloudformation: cloudFormationIac(b, f) }).sort();
      expect({ what, found }).toEqual({ what, found: expected.map((pattern): unknown => expect.stringMatching(pattern)) });
    }
  }, PLAN_TIMEOUT_MS);

  it('when the small shop is read from both tools (Terraform planned with the small-shop.tfvars, the templates with the small-shop parameter files), then they agree: one NAT instance made alike, the private routes through it, one t4g.micro without detailed monitoring, no WAF on the load balancer or the API', async () => {
    const [plan, backendPlan] = await Promise.all([smallShop!, smallShopBackend!]);
    // The backend's part: the API stage's WAF, off.
    const backendSmallShop = Object.fromEntries(
      (JSON.parse(readFileSync(join(repoRoot, 'cloudformation', 'small-shop-backend.json'), 'utf8')) as { ParameterKey: string; ParameterValue: string }[]).map(({ ParameterKey, ParameterValue }) => [ParameterKey, ParameterValue]),
    );
    const backend = loadTemplate('backend');
    const found: Record<string, Values> = {
      terraform: { ...terraformSmallShop(plan), 'smallShop.waf.api': plannedResource(backendPlan, 'module.api_waf[0].aws_wafv2_web_acl_association.this') !== undefined },
      cloudformation: { ...cloudFormationSmallShop(loadTemplate('frontend'), smallShopParameters()), 'smallShop.waf.api': Boolean(resolveWith(backend, { Condition: backend.Resources.ApiWebAclAssociation!.Condition! }, backendSmallShop)) },
    };
    for (const [name, values] of Object.entries(found)) expect({ name, unread: Object.keys(values).filter((key) => values[key] === undefined || JSON.stringify(values[key]).startsWith('"<')) }).toEqual({ name, unread: [] });
    expect(disagreements(found)).toEqual([]);
    // What the comparison stands on, spelt out once.
    expect(found.cloudformation).toMatchObject({
      'smallShop.natGateways': 0,
      'smallShop.natAddresses': 0,
      'smallShop.natInstances': 1,
      'smallShop.nat.image': 'ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
      'smallShop.nat.instanceType': 't4g.nano',
      'smallShop.nat.subnet': 'the first public subnet',
      'smallShop.nat.publicAddress': true,
      'smallShop.nat.sourceDestCheck': false,
      'smallShop.nat.metadata': 'endpoint enabled, tokens required, hop limit 1',
      'smallShop.nat.rootVolume': 'gp3 8 GiB, encrypted',
      'smallShop.nat.keyPair': 'none',
      'smallShop.nat.ingress': ['tcp 443-443 from sg:instance', 'tcp 80-80 from sg:instance'],
      'smallShop.nat.egress': ['tcp 443-443 to 0.0.0.0/0', 'tcp 80-80 to 0.0.0.0/0'],
      'smallShop.privateRoutes': ['the NAT instance', 'the NAT instance'],
      'smallShop.web.instanceType': 't4g.micro',
      'smallShop.web.capacity': 'min 1, desired 1, max 2',
      'smallShop.web.detailedMonitoring': false,
      'smallShop.waf.web': false,
      'smallShop.waf.api': false,
      'smallShop.interfaceEndpoints': 0,
    });
    // A change on the template's side shows by name: its NAT instance allowing IMDSv1, or the parameters file without the NAT instance.
    const template = loadTemplate('frontend');
    (template.Resources.NatHost!.Properties!.MetadataOptions as Values).HttpTokens = 'optional';
    expect(disagreements({ ...found, cloudformation: { ...found.cloudformation, ...cloudFormationSmallShop(template, smallShopParameters()) } })).toEqual([
      expect.stringMatching(/^smallShop\.nat\.metadata: terraform="endpoint enabled, tokens required, hop limit 1", cloudformation="endpoint enabled, tokens optional, hop limit 1"$/),
    ]);
    expect(disagreements({ ...found, cloudformation: { ...found.cloudformation, ...cloudFormationSmallShop(loadTemplate('frontend'), { ...smallShopParameters(), NatInstance: 'false' }) } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^smallShop\.natInstances: terraform=1, cloudformation=0$/), expect.stringMatching(/^smallShop\.privateRoutes: terraform=\["the NAT instance","the NAT instance"\], cloudformation=\["a NAT gateway","a NAT gateway"\]$/)]),
    );
  }, PLAN_TIMEOUT_MS);

  it('when the web role\'s live-status grants are read from both tools, then each action has the same resources and conditions: its own queues, ListQueues on "*", the topic by SQS to its queues only', () => {
    const grants = iac.cloudformation!['web.role.eventGrants'] as Values;
    const queues = `arn:aws:sqs:us-east-1:${PARITY_ACCOUNT}:order-web-events-*`;
    const topic = FRONTEND_VARIABLES.order_events_topic_arn;
    expect(grants).toEqual({
      'sns:ListSubscriptionsByTopic': topic,
      'sns:Subscribe': `${topic} if ${canonical({ StringEquals: { 'sns:Protocol': 'sqs' }, StringLike: { 'sns:Endpoint': queues } })}`,
      'sns:Unsubscribe': `${topic} ${topic}:*`,
      'sqs:ChangeMessageVisibility': queues,
      'sqs:CreateQueue': queues,
      'sqs:DeleteMessage': queues,
      'sqs:DeleteQueue': queues,
      'sqs:GetQueueAttributes': queues,
      'sqs:ListQueueTags': queues,
      'sqs:ListQueues': '*',
      'sqs:ReceiveMessage': queues,
      'sqs:SetQueueAttributes': queues,
      'sqs:TagQueue': queues,
    });
    expect(iac.terraform!['web.role.eventGrants']).toEqual(grants);
    expect(iac.terraform!['web.eventQueuePrefix']).toBe('order-web-events-');
    // A grant widened on one side shows by name.
    const wider = loadTemplate('frontend');
    const statements = (wider.Resources.InstanceRole!.Properties!.Policies as { PolicyDocument: { Statement: Values[] } }[]).flatMap((policy) => policy.PolicyDocument.Statement);
    delete statements.find((statement) => statement.Sid === 'SubscribeOwnQueues')!.Condition;
    expect(disagreements({ terraform: { grants: iac.terraform!['web.role.eventGrants'] }, cloudformation: { grants: cloudFormationEventGrants(wider) } })).toEqual([expect.stringMatching(/^grants: .*"sns:Subscribe":"arn:aws:sns:us-east-1:123456789012:order-events"/)]);
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
    await expectEditsNamed('queueType');

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
  }, PLAN_TIMEOUT_MS);

  it('when the declaration is read, then Terraform and CloudFormation deploy every declared function and no other', () => {
    expect(deploymentGaps(functions, plans.backend.standard, loadTemplate('backend'))).toEqual([]);
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

  it('when each function\'s variables are read, then CloudFormation binds every one to the reference the declaration names, and Terraform\'s plan every one it knows', () => {
    const cloudFormation = cloudFormationBindings(loadTemplate('backend'));
    for (const [name, spec] of Object.entries(functions as Declaration)) {
      expect({ name, cloudformation: cloudFormation[name] }).toEqual({ name, cloudformation: spec.environment });
      // A function given an ARN or URL has all its variables unknown in the plan: the rehearsal reads them on moto.
      expect({ name, terraform: sources.terraform![`lambda.${name}.environment`] }).toEqual({ name, terraform: environmentAtPlan(spec.environment) });
    }
    // What the plan does show, spelt out once: the cart's table, its TTL and the menu's table, by their planned values.
    expect(sources.terraform!['lambda.cart.environment']).toEqual({ CARTS_TABLE_NAME: 'carts-table-name', CART_TTL_SECONDS: 'cart-ttl-seconds', PRODUCTS_TABLE_NAME: 'products-table-name' });
    const atApply = Object.keys(functions).filter((name) => sources.terraform![`lambda.${name}.environment`] === SET_AT_APPLY);
    console.log(`parity: the variables of ${atApply.join(', ')} are known after apply; the rehearsal reads them on moto`);
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

  it('when a value is changed in a Terraform file, then the plan shows it and the parity fails naming it', async () => {
    await expectEditsNamed('settings');
  }, PLAN_TIMEOUT_MS);

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
          const method = t.Resources[cloudFormationMethodId(t, 'GET /me/cart')]!.Properties!;
          method.AuthorizationType = 'NONE';
          delete method.AuthorizerId;
        },
        /^lambda\.cart\.trigger\.authorizer: terraform="cognito", cloudformation="cognito\+none", local="cognito"$/,
      ],
      ['a secret on the client', (t) => (t.Resources.CustomerUserPoolClient!.Properties!.GenerateSecret = true), /^userPool\.client\.generateSecret: terraform=false, cloudformation=true, local=false$/],
      ['SRP sign-in allowed', (t) => (t.Resources.CustomerUserPoolClient!.Properties!.ExplicitAuthFlows = ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']), /^userPool\.client\.explicitAuthFlows: .*cloudformation=\["ALLOW_REFRESH_TOKEN_AUTH","ALLOW_USER_PASSWORD_AUTH","ALLOW_USER_SRP_AUTH"\]/],
      ['the carts TTL off', (t) => ((t.Resources.CartsTable!.Properties!.TimeToLiveSpecification as Values).Enabled = false), /^carts\.ttlAttribute: terraform="expires_at", cloudformation="none", local="expires_at"$/],
      ['a TTL on the products', (t) => (t.Resources.ProductsTable!.Properties!.TimeToLiveSpecification = { AttributeName: 'expires_at', Enabled: true }), /^products\.ttlAttribute: terraform="none", cloudformation="expires_at", local="none"$/],
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
    expect(local['products.partitionKey']).toBe(`${productTable.partitionKey} (S)`);
    expect(local['customerNotifications.subscription.rawMessageDelivery']).toBe(true);
    const shorter = { ...settings, accounts: { userPool: { ...settings.accounts.userPool, idTokenValidityMinutes: 30 } } } as unknown as typeof settings;
    // The local client's ID and access tokens both last idTokenValidityMinutes, as Terraform's and CloudFormation's do.
    expect(disagreements({ ...sources, local: localSettings(shorter, functions) })).toEqual([
      expect.stringMatching(/^userPool\.client\.idTokenValidity: terraform="60 minutes", cloudformation="60 minutes", local="30 minutes"$/),
      expect.stringMatching(/^userPool\.client\.accessTokenValidity: terraform="60 minutes", cloudformation="60 minutes", local="30 minutes"$/),
    ]);
    const unnamed = { ...settings, names: { ...settings.names, cartsTable: 'baskets' } } as unknown as typeof settings;
    expect(disagreements({ ...sources, local: localSettings(unnamed, functions) })).toEqual([expect.stringMatching(/^carts\.name: terraform="carts", cloudformation="carts", local="baskets"$/)]);
    const renamedMenu = { ...settings, names: { ...settings.names, productsTable: 'menu' } } as unknown as typeof settings;
    expect(disagreements({ ...sources, local: localSettings(renamedMenu, functions) })).toEqual([expect.stringMatching(/^products\.name: terraform="products", cloudformation="products", local="menu"$/)]);
  });

  it('when a function is declared but a tool does not deploy it, then the parity fails naming the function and the tool', async () => {
    // A new function, declared with no IaC yet.
    const declaration: Declaration = {
      ...functions,
      'refund-order': { description: 'Refunds an order.', entry: 'x', wiring: 'x', memoryMb: 128, timeoutSeconds: 5, environment: { TABLE_NAME: 'orders-table-name' }, permissions: [], trigger: { type: 'api', routes: ['POST /orders/{id}/refund'] } },
    };
    expect(deploymentGaps(declaration, plans.backend.standard, loadTemplate('backend'))).toEqual([
      'refund-order is declared in platform/functions.json, but terraform-backend does not deploy it (no aws_lambda_function whose function_name is refund-order in its plan)',
      'refund-order is declared in platform/functions.json, but dist/cloudformation/backend.yaml does not deploy it (no AWS::Lambda::Function whose FunctionName is refund-order)',
    ]);
    expect(disagreements({ ...sources, local: localSettings(settings, declaration) })).toEqual(expect.arrayContaining([expect.stringMatching(/^lambda\.functions: /), expect.stringMatching(/^lambda\.refund-order\.memoryMb: terraform=undefined, cloudformation=undefined, local=128/)]));

    // The kitchen taken out of one tool at a time.
    const kitchenless = await withoutKitchen!;
    const template = loadTemplate('backend');
    delete template.Resources.AdvanceOrdersFunction;
    expect(deploymentGaps(functions, kitchenless, template)).toEqual([
      'advance-orders is declared in platform/functions.json, but terraform-backend does not deploy it (no aws_lambda_function whose function_name is advance-orders in its plan)',
      'advance-orders is declared in platform/functions.json, but dist/cloudformation/backend.yaml does not deploy it (no AWS::Lambda::Function whose FunctionName is advance-orders)',
    ]);
    expect(disagreements({ ...sources, terraform: terraformSettings({ ...plans, backend: { ...plans.backend, standard: kitchenless } }) })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lambda\.functions: terraform=\["cart","checkout","get-order","my-orders","notify-customer","process-order","staff-orders","submit-order"\]/),
        expect.stringMatching(/^lambda\.advance-orders\.timeoutSeconds: terraform=undefined/),
      ]),
    );
  }, PLAN_TIMEOUT_MS);
});
