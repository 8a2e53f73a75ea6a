/**
 * The backend template to deploy: cloudformation/backend.yaml, written by hand (queues, tables, topics,
 * key, accounts, the API itself, its stage, logs and WAF, the alarms on them), with each function of
 * platform/functions.json added: its log group, role, function, Errors and Throttles alarms, trigger
 * (API routes, event source mapping or schedule) and name output, and the API's deployment of every
 * route. A new function is its folder and one entry in functions.json; nothing here names it.
 *
 *   node --import tsx cloudformation/generate.ts [output]   (npm run build writes the default output)
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { yamlDump, yamlParse } from 'yaml-cfn';
import { METRICS_NAMESPACE } from '../backend-lambdas/lib/observability.js';
import { orderTable } from '../backend-lambdas/lib/order-store.js';
import { functions as declaredFunctions, mappingSettings, roleNamePart, type FunctionSpec, type PermissionTarget, type ResourceRef, type Trigger } from '../platform/functions.js';
import { settings } from '../platform/settings.js';

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: 'Delete' | 'Retain' | 'RetainExceptOnCreate' | 'Snapshot';
  UpdateReplacePolicy?: 'Delete' | 'Retain' | 'Snapshot';
  Metadata?: Record<string, unknown>;
  Properties?: Record<string, unknown>;
}

/** A template in the standard JSON form of its intrinsics ({"Fn::GetAtt": [...]}), as yaml-cfn parses it. */
export interface Template {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}

export type Declaration = Readonly<Record<string, FunctionSpec>>;
type ApiTrigger = Extract<Trigger, { type: 'api' }>;
type QueueTrigger = Extract<Trigger, { type: 'queue' }>;
type ScheduleTrigger = Extract<Trigger, { type: 'schedule' }>;

const root = fileURLToPath(new URL('..', import.meta.url));
/** The hand-written part. */
export const SOURCE = join(root, 'cloudformation', 'backend.yaml');
/** What `npm run build` writes, beside the zips it points at. */
export const OUTPUT = join(root, 'dist', 'cloudformation', 'backend.yaml');
export const LAMBDAS_DIR = join(root, 'dist', 'lambdas');

const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
const sub = (text: string) => ({ 'Fn::Sub': text });
const NO_VALUE = ref('AWS::NoValue');

/** 'submit-order' -> 'SubmitOrder', '{product_id}' -> 'ProductId': a name or path segment as logical ids spell it. */
function pascal(name: string): string {
  return name
    .replace(/[{}]/g, '')
    .split(/[-_]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

// ---------------------------------------------------------------- what the declaration's names are here

/** The value each environment binding takes (the tests keep their own copy, test/iac/resource-refs.ts). */
const ENVIRONMENT_VALUES: Record<ResourceRef, unknown> = {
  'orders-queue-url': ref('OrdersQueue'),
  'orders-table-name': ref('OrdersTable'),
  'order-events-topic-arn': ref('OrderEventsTopic'),
  // The functions read the timings as JSON; the template takes one checked parameter a status.
  'lifecycle-timings': sub('{"RECEIVED":${OrderReceivedSeconds},"PREPARING":${OrderPreparingSeconds},"READY":${OrderReadySeconds}}'),
  'max-receive-count': ref('MaxReceiveCount'),
  'carts-table-name': ref('CartsTable'),
  'cart-ttl-seconds': ref('CartTtlSeconds'),
  'customer-mail-from': ref('CustomerMailFrom'),
  'shop-url': ref('ShopUrl'),
  'products-table-name': ref('ProductsTable'),
};

/** What a grant on each target is granted on, and the condition it is held to, if any. */
const GRANT_TARGETS: Record<PermissionTarget, { Resource: unknown; Condition?: unknown }> = {
  'orders-queue': { Resource: getAtt('OrdersQueue', 'Arn') },
  'customer-notifications-queue': { Resource: getAtt('CustomerNotificationsQueue', 'Arn') },
  'orders-table': { Resource: getAtt('OrdersTable', 'Arn') },
  // An index's own ARN: a Query granted there reads neither the table nor another index.
  'orders-table-due-index': { Resource: sub(`\${OrdersTable.Arn}/index/${orderTable.dueIndex.name}`) },
  'orders-table-account-index': { Resource: sub(`\${OrdersTable.Arn}/index/${orderTable.accountIndex.name}`) },
  'carts-table': { Resource: getAtt('CartsTable', 'Arn') },
  'products-table': { Resource: getAtt('ProductsTable', 'Arn') },
  // A topic's Ref is its ARN.
  'order-events-topic': { Resource: ref('OrderEventsTopic') },
  'notifications-key': { Resource: getAtt('NotificationsKey', 'Arn') },
  // SES v2 SendEmail is authorised on the sending identity, and here only from its address.
  'customer-mail-identity': {
    Resource: sub('arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${CustomerMailFromIdentity}'),
    Condition: { StringEquals: { 'ses:FromAddress': ref('CustomerMailFrom') } },
  },
};

/** Each queue a function may consume, and the condition under which it is FIFO (never, when none). */
const QUEUES: Record<QueueTrigger['queue'], { id: string; fifoWhen?: string }> = {
  orders: { id: 'OrdersQueue', fifoWhen: 'FifoQueues' },
  'customer-notifications': { id: 'CustomerNotificationsQueue' },
};

const API = 'OrdersApi';
const AUTHORIZERS: Record<NonNullable<ApiTrigger['authorizer']>, string> = { cognito: 'CustomersAuthorizer' };

/**
 * The ids of the routes deployed before they were generated. CloudFormation creates a renamed resource
 * before it deletes the old one, and API Gateway refuses a second resource or method on one path: so
 * a stack made by the hand-written template keeps these. Routes added since get `<Path>Resource` and
 * `<Method><Path>Method`.
 */
const KEPT_API_IDS: { resources: Readonly<Record<string, string>>; methods: Readonly<Record<string, string>> } = {
  resources: {
    '/orders': 'OrdersResource',
    '/orders/{id}': 'OrderResource',
    '/me': 'MeResource',
    '/me/cart': 'MeCartResource',
    '/me/cart/lines': 'MeCartLinesResource',
    '/me/cart/lines/{product_id}': 'MeCartLineResource',
    '/me/orders': 'MeOrdersResource',
    '/me/orders/{id}': 'MeOrderResource',
  },
  methods: {
    'POST /orders': 'PostOrdersMethod',
    'GET /orders/{id}': 'GetOrderMethod',
    'GET /orders': 'GetOrdersMethod',
    'GET /me/cart': 'GetCartMethod',
    'PUT /me/cart/lines/{product_id}': 'PutCartLineMethod',
    'DELETE /me/cart/lines/{product_id}': 'DeleteCartLineMethod',
    'POST /me/orders': 'PostMyOrdersMethod',
    'GET /me/orders': 'GetMyOrdersMethod',
    'GET /me/orders/{id}': 'GetMyOrderMethod',
  },
};

/**
 * Ids kept from the hand-written template: the kitchen's, which the template's KitchenScheduleExpression
 * parameter and KitchenScheduleRuleName output name, and notify-customer's mapping, as a new id would
 * replace it and Lambda refuses a second mapping of one queue to one function while the first exists.
 * Other functions get `<Function>ScheduleRule` and `<Function>EventSourceMapping`.
 */
const KEPT_IDS = {
  /** The prefix of a schedule's rule, permission and (when the template has it) expression parameter. */
  schedule: { 'advance-orders': 'Kitchen' } as Readonly<Record<string, string>>,
  mapping: { 'notify-customer': 'CustomerNotificationsEventSourceMapping' } as Readonly<Record<string, string>>,
};

// ---------------------------------------------------------------- cfn-guard's Control Tower rules each resource fails on purpose

// test/iac/cfn-guard.test.ts fails on a failure not suppressed here and on a suppression without a reason.
const LOG_GROUP_GUARD = {
  SuppressedRules: ['cloudwatch_log_group_retention_period_check', 'cloudwatch_log_group_encrypted_check'],
  SuppressionReasons: {
    cloudwatch_log_group_retention_period_check:
      "RetentionInDays is the LogRetentionDays parameter, whose AllowedValues are CloudWatch's retention periods (1 day to 10 years, never 'forever'); cfn-guard cannot resolve a parameter Ref.",
    cloudwatch_log_group_encrypted_check:
      'CloudWatch Logs encrypts every log group at rest with its own keys. A customer-managed key would add a key policy and a monthly key charge, and would keep out no reader: these logs hold no API key, no order body and no personal data beyond customer ids.',
  },
};
const FUNCTION_GUARD = {
  SuppressedRules: ['lambda_inside_vpc_check'],
  SuppressionReasons: {
    lambda_inside_vpc_check:
      'The functions call only AWS APIs over TLS with IAM authentication and reach nothing inside a VPC; in a VPC they would need NAT gateways or interface endpoints to do the same, and gain no control over who may call them.',
  },
};
const INVOKE_PERMISSION_GUARD = {
  SuppressedRules: ['lambda_function_public_access_prohibited_check'],
  SuppressionReasons: {
    lambda_function_public_access_prohibited_check:
      "Scoped twice: SourceArn is this API's execute-api ARN for the one route (an Fn::Sub) and SourceAccount this account (a Ref); cfn-guard accepts only literal strings or GetAtt there.",
  },
};

// ---------------------------------------------------------------- one function

function role(name: string, spec: FunctionSpec, logGroup: string): Resource {
  const grants = spec.permissions.map(({ sid, actions, on }) => ({
    Sid: sid,
    Effect: 'Allow',
    Action: actions.length === 1 ? actions[0] : actions,
    ...GRANT_TARGETS[on],
  }));
  return {
    Type: 'AWS::IAM::Role',
    // A policy statement has no room for a reason: each grant's is kept beside it, by its Sid.
    Metadata: { GrantReasons: Object.fromEntries(spec.permissions.map(({ sid, why }) => [sid, why])) },
    Properties: {
      // IAM names are global to the account: the prefix and the region keep stacks apart.
      RoleName: sub(`\${NamePrefix}${roleNamePart(name)}-\${AWS::Region}`),
      Description: `${name} Lambda; ${spec.description}`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: name,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              ...grants,
              { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(logGroup, 'Arn') },
              // The X-Ray write actions take no resource-level permissions: "*" is the only form AWS accepts.
              { Sid: 'WriteTraces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
            ],
          },
        },
      ],
    },
  };
}

function lambda(name: string, spec: FunctionSpec, id: string, codeDir: string): Resource {
  return {
    Type: 'AWS::Lambda::Function',
    Metadata: {
      guard: FUNCTION_GUARD,
      // W3002: Code is a local zip on purpose; `aws cloudformation package` replaces it with its S3 location.
      'cfn-lint': { config: { ignore_checks: ['W3002'] } },
    },
    Properties: {
      FunctionName: sub(`\${NamePrefix}${name}`),
      Description: spec.description,
      // Relative to the template: `aws cloudformation package` uploads it and writes the S3 location here.
      Code: join(codeDir, `${name}.zip`),
      Handler: 'index.handler',
      Runtime: settings.lambda.runtime,
      Architectures: [settings.lambda.architecture],
      MemorySize: spec.memoryMb,
      Timeout: spec.timeoutSeconds,
      Role: getAtt(`${id}Role`, 'Arn'),
      LoggingConfig: { LogGroup: ref(`${id}LogGroup`) },
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          ...Object.fromEntries(Object.entries(spec.environment).map(([variable, value]) => [variable, ENVIRONMENT_VALUES[value]])),
          POWERTOOLS_SERVICE_NAME: name,
          POWERTOOLS_LOG_LEVEL: ref('LogLevel'),
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        },
      },
    },
  };
}

/** An alarm on one of the function's metrics, to ops-alarms on ALARM and OK; no invocation in a period is no error. */
function alarm(name: string, id: string, metric: 'Errors' | 'Throttles'): Resource {
  const [threshold, says] =
    metric === 'Errors'
      ? ['LambdaErrorAlarmThreshold', 'failed LambdaErrorAlarmThreshold or more invocations in a minute; its log group and traces say why.']
      : ['LambdaThrottleAlarmThreshold', 'was throttled LambdaThrottleAlarmThreshold or more times in a minute; concurrency is exhausted.'];
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: sub(`\${NamePrefix}${name}-${metric.toLowerCase()}`),
      AlarmDescription: `${name} ${says}`,
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Dimensions: [{ Name: 'FunctionName', Value: ref(`${id}Function`) }],
      Statistic: 'Sum',
      Period: settings.alarm.periodSeconds,
      EvaluationPeriods: settings.alarm.evaluationPeriods,
      Threshold: ref(threshold),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref('OpsAlarmsTopic')],
      OKActions: [ref('OpsAlarmsTopic')],
    },
  };
}

/** The mapping of a queue to its function, as mappingSettings gives it for the queue's type (FIFO or not, by the template's condition). */
function eventSourceMapping(trigger: QueueTrigger, functionId: string): Resource {
  const queue = QUEUES[trigger.queue];
  const standard = mappingSettings(trigger, 'standard');
  // Called for FIFO too where the queue may be FIFO: a batch a FIFO mapping refuses stops the build here.
  const fifo = queue.fifoWhen ? mappingSettings(trigger, 'fifo') : undefined;
  const windowOf = (mapping: ReturnType<typeof mappingSettings>) => mapping.maximumBatchingWindowSeconds ?? NO_VALUE;
  return {
    Type: 'AWS::Lambda::EventSourceMapping',
    Properties: {
      EventSourceArn: getAtt(queue.id, 'Arn'),
      FunctionName: ref(functionId),
      BatchSize: standard.batchSize,
      MaximumBatchingWindowInSeconds: queue.fifoWhen && fifo ? { 'Fn::If': [queue.fifoWhen, windowOf(fifo), windowOf(standard)] } : windowOf(standard),
      ScalingConfig: { MaximumConcurrency: standard.maximumConcurrency },
      // Only the failed records of a batch are redelivered (and, after MaxReceiveCount receives, dead-lettered).
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    },
  };
}

/**
 * An EventBridge rule that runs the function, the permission that lets that rule, and no other, invoke
 * it, and an alarm when it stops running (the rule disabled or deleted, the permission gone), which its
 * error alarm cannot see: no run, no error.
 */
function schedule(name: string, spec: FunctionSpec, trigger: ScheduleTrigger, functionId: string, parameters: Record<string, unknown>): Record<string, Resource> {
  const prefix = KEPT_IDS.schedule[name] ?? pascal(name);
  // Where the template offers a parameter for the rate (its default the declared one), deployers may change it.
  const parameter = `${prefix}ScheduleExpression`;
  // Likewise the silence that counts as stopped; else five declared periods, so one late run is no alarm.
  const stoppedPeriod = `${prefix}StoppedAlarmPeriodSeconds`;
  const schedule = parameter in parameters ? `\${${parameter}}` : trigger.expression;
  return {
    [`${prefix}StoppedAlarm`]: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: sub(`\${NamePrefix}${name}-stopped`),
        AlarmDescription: sub(
          `${name} did not run in ${stoppedPeriod in parameters ? `\${${stoppedPeriod}} s` : `${5 * trigger.everySeconds} s`}, on a schedule of ${schedule}. ${spec.description} Threshold: fewer than one run in several periods of its schedule, so one late run is no alarm; no data is no run, so it breaches.`,
        ),
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: ref(functionId) }],
        Statistic: 'Sum',
        Period: stoppedPeriod in parameters ? ref(stoppedPeriod) : 5 * trigger.everySeconds,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [ref('OpsAlarmsTopic')],
        OKActions: [ref('OpsAlarmsTopic')],
      },
    },
    [`${prefix}ScheduleRule`]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: sub(`\${NamePrefix}${name}-schedule`),
        Description: `Runs ${name}: ${spec.description}`,
        ScheduleExpression: parameter in parameters ? ref(parameter) : trigger.expression,
        State: 'ENABLED',
        Targets: [{ Id: name, Arn: getAtt(functionId, 'Arn') }],
      },
    },
    [`${prefix}SchedulePermission`]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: ref(functionId),
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(`${prefix}ScheduleRule`, 'Arn'),
        SourceAccount: ref('AWS::AccountId'),
      },
    },
  };
}

function functionResources(name: string, spec: FunctionSpec, codeDir: string, parameters: Record<string, unknown>): Record<string, Resource> {
  const id = pascal(name);
  const { trigger } = spec;
  return {
    [`${id}LogGroup`]: {
      Type: 'AWS::Logs::LogGroup',
      Metadata: { guard: LOG_GROUP_GUARD },
      Properties: { LogGroupName: sub(`/aws/lambda/\${NamePrefix}${name}`), RetentionInDays: ref('LogRetentionDays') },
    },
    [`${id}Role`]: role(name, spec, `${id}LogGroup`),
    [`${id}Function`]: lambda(name, spec, id, codeDir),
    [`${id}ErrorsAlarm`]: alarm(name, id, 'Errors'),
    [`${id}ThrottlesAlarm`]: alarm(name, id, 'Throttles'),
    ...(trigger.type === 'queue' ? { [KEPT_IDS.mapping[name] ?? `${id}EventSourceMapping`]: eventSourceMapping(trigger, `${id}Function`) } : {}),
    ...(trigger.type === 'schedule' ? schedule(name, spec, trigger, `${id}Function`, parameters) : {}),
  };
}

// ---------------------------------------------------------------- the API's routes, of every function

interface Route {
  /** "GET /me/orders/{id}", as declared. */
  route: string;
  functionId: string;
  authorizer: ApiTrigger['authorizer'];
}

/** Each path's resource (its parents first), each route's method and invoke permission, and a deployment of them all. */
function apiResources(routes: Route[]): { resources: Record<string, Resource>; deployment: string } {
  const pathResources: Record<string, Resource> = {};
  const methods: Record<string, Resource> = {};
  const permissions: Record<string, Resource> = {};
  for (const { route, functionId, authorizer } of routes) {
    const [method, path] = route.split(' ') as [string, string];
    const segments = path.split('/').slice(1);
    let parent: unknown = getAtt(API, 'RootResourceId');
    segments.forEach((segment, index) => {
      const id = KEPT_API_IDS.resources[`/${segments.slice(0, index + 1).join('/')}`] ?? `Api${segments.slice(0, index + 1).map(pascal).join('')}Resource`;
      const resource = { Type: 'AWS::ApiGateway::Resource', Properties: { RestApiId: ref(API), ParentId: parent, PathPart: segment } };
      // Two paths may spell one id ("/a/b-c" and "/a/b/c"): one would silently stand for the other.
      if (pathResources[id] && !isDeepStrictEqual(pathResources[id], resource)) throw new Error(`the routes' paths ${segments.slice(0, index + 1).join('/')} and another both make the id ${id}`);
      pathResources[id] = resource;
      parent = ref(id);
    });
    const routeId = `${pascal(method.toLowerCase())}${segments.map(pascal).join('')}`;
    const parameters = segments.filter((segment) => segment.startsWith('{')).map((segment) => `method.request.path.${segment.slice(1, -1)}`);
    const methodId = KEPT_API_IDS.methods[route] ?? `${routeId}Method`;
    if (methods[methodId]) throw new Error(`the routes ${route} and another both make the id ${methodId}`);
    methods[methodId] = {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        RestApiId: ref(API),
        ResourceId: parent,
        HttpMethod: method,
        ...(authorizer ? { AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: ref(AUTHORIZERS[authorizer]) } : { AuthorizationType: 'NONE' }),
        // Every route is the web tier's, with its key (the usage plan throttles by it).
        ApiKeyRequired: true,
        ...(parameters.length > 0 ? { RequestParameters: Object.fromEntries(parameters.map((parameter) => [parameter, true])) } : {}),
        Integration: {
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          Uri: sub(`arn:\${AWS::Partition}:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${${functionId}.Arn}/invocations`),
        },
      },
    };
    permissions[`${routeId}InvokePermission`] = {
      Type: 'AWS::Lambda::Permission',
      Metadata: { guard: INVOKE_PERMISSION_GUARD },
      Properties: {
        FunctionName: ref(functionId),
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        // This API, any stage, this one route ({x} segments match any value).
        SourceArn: sub(`arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${API}}/*/${method}${path.replace(/\{[^}]+\}/g, '*')}`),
        SourceAccount: ref('AWS::AccountId'),
      },
    };
  }
  // CloudFormation does not redeploy an unchanged Deployment: its id carries a hash of the routes as
  // built, so any change to a path, method, authorizer or integration makes a new one for the stage.
  const hash = createHash('sha256').update(JSON.stringify([pathResources, methods])).digest('hex').slice(0, 8);
  const deployment = `${API}Deployment${hash}`;
  return {
    deployment,
    resources: {
      ...pathResources,
      ...methods,
      ...permissions,
      [deployment]: {
        Type: 'AWS::ApiGateway::Deployment',
        DependsOn: Object.keys(methods),
        Properties: { RestApiId: ref(API), Description: `Routes (each with the API key): ${routes.map(({ route }) => route).join(', ')}.` },
      },
    },
  };
}

// ---------------------------------------------------------------- the template

/**
 * The hand-written template with the declared functions' resources added. `codeDir` is where the zips
 * are, relative to the folder the template is written to (`aws cloudformation package` resolves Code
 * from there). Fails when the source already has a resource or output it would add: a function's
 * resources are declared once, in the function list.
 */
export function backendTemplate({ source, functions, codeDir }: { source: Template; functions: Declaration; codeDir: string }): Template {
  const template = structuredClone(source);
  const outputs = (template.Outputs ??= {});
  const add = <Value>(section: Record<string, Value>, id: string, value: Value) => {
    if (id in section) throw new Error(`cloudformation/backend.yaml already has ${id}, which cloudformation/generate.ts writes from platform/functions.json: remove it from the template`);
    section[id] = value;
  };

  const routes: Route[] = [];
  for (const [name, spec] of Object.entries(functions)) {
    for (const [id, resource] of Object.entries(functionResources(name, spec, codeDir, template.Parameters ?? {}))) add(template.Resources, id, resource);
    const functionId = `${pascal(name)}Function`;
    if (spec.trigger.type === 'api') for (const route of spec.trigger.routes) routes.push({ route, functionId, authorizer: spec.trigger.authorizer });
    add(outputs, `${functionId}Name`, {
      Description: `Name of the ${name} function: ${spec.description}`,
      Value: ref(functionId),
      Export: { Name: sub(`\${AWS::StackName}-${functionId}Name`) },
    });
  }

  const api = apiResources(routes);
  for (const [id, resource] of Object.entries(api.resources)) add(template.Resources, id, resource);
  const stages = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ApiGateway::Stage' && JSON.stringify(resource.Properties?.RestApiId) === JSON.stringify(ref(API)));
  if (stages.length !== 1) throw new Error(`cloudformation/backend.yaml must have one stage of ${API} for the routes' deployment, not ${stages.length}`);
  add(stages[0]!.Properties!, 'DeploymentId', ref(api.deployment));
  return template;
}

const HEADER = '# Generated by cloudformation/generate.ts (npm run build) from cloudformation/backend.yaml and\n# platform/functions.json: edit those, not this file.\n';

/** Writes the template for `functions` to `output`, its Code paths pointing at the zips in `lambdasDir`; resolves to the file written. */
export async function writeBackendTemplate({ output = OUTPUT, functions = declaredFunctions, lambdasDir = LAMBDAS_DIR }: { output?: string; functions?: Declaration; lambdasDir?: string } = {}): Promise<string> {
  const source = yamlParse(await readFile(SOURCE, 'utf8')) as Template;
  const template = backendTemplate({ source, functions, codeDir: relative(dirname(output), lambdasDir) });
  await mkdir(dirname(output), { recursive: true });
  await writeFile(output, HEADER + toYaml(template));
  return output;
}

/**
 * The template as YAML, as the hand-written one spells what other readers would misread: yaml-cfn
 * writes `!GetAtt Queue.Arn`, which cfn-guard's rules take for a plain string rather than a reference
 * (a queue's DLQ or a permission's source would count as missing), and leaves dates such as a policy's
 * Version unquoted, which YAML 1.1 readers (PyYAML in `aws cloudformation package`) take for dates.
 * The text is checked to parse back to the same template.
 */
function toYaml(template: Template): string {
  // Through JSON first: yaml-cfn would write an object the template holds twice (a guard suppression) as a YAML alias.
  const plain = JSON.parse(JSON.stringify(template)) as Template;
  const text = yamlDump(plain)
    .replace(/ !GetAtt ([A-Za-z0-9]+)\.([A-Za-z0-9.]+)$/gm, ' !GetAtt [$1, $2]')
    .replace(/^(\s*[A-Za-z]+: )(\d{4}-\d{2}-\d{2})$/gm, "$1'$2'");
  if (!isDeepStrictEqual(yamlParse(text), plain)) throw new Error('the template written as YAML does not parse back to itself');
  return text;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const written = await writeBackendTemplate(process.argv[2] ? { output: resolve(process.argv[2]) } : {});
  console.log(`${relative(process.cwd(), written)}: cloudformation/backend.yaml and ${Object.keys(declaredFunctions).length} functions`);
}
