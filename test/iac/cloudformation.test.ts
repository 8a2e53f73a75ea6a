import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig as loadWebConfig } from '../../frontend/config.js';
import { cartTable } from '../../backend-lambdas/lib/cart-store.js';
import { orderTable } from '../../backend-lambdas/lib/order-store.js';
import { lifecycleTimingsJson } from '../../domain/lifecycle.js';
import { cartTableDefinition, CUSTOMER_MAIL_FILTER, ORDER_EVENTS_EMAIL_FILTER, orderTableDefinition, productTableDefinition } from '../../local/resources.js';
import { apiRoutes, functionNames, functions, mappingSettings, roleNamePart, triggerOf, type FunctionName } from '../../platform/functions.js';
import { QUEUE_TYPES, queueNames, settings } from '../../platform/settings.js';
import {
  actionsOf,
  cfnLintVersion,
  deployedFunctions,
  functionLogicalId,
  loadTemplate,
  policyStatements,
  props,
  readSourceText,
  resolveDefault,
  resolveWith,
  resource,
  resourcesOfType,
  roleGrants,
  runCfnLint,
  subWithDefaults,
  templatePath,
  type CfnTemplate,
  type TemplateName,
} from './cloudformation.js';
import { countedBusinessMetrics, dashboardBusinessMetrics } from './business-metrics.js';
import { cloudFormationModel, WILDCARD_RESOURCES_ALLOWED } from './policy.js';
import { gate } from '../helpers/requirements.js';
import { CFN_REFS, CFN_TIMINGS_PARAMETERS, expectedBindings } from './resource-refs.js';

const backend = loadTemplate('backend');
const frontend = loadTemplate('frontend');
const templates: [TemplateName, CfnTemplate][] = [
  ['backend', backend],
  ['frontend', frontend],
];
const root = new URL('../../', import.meta.url).pathname;

const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });

const cfnLint = gate('cfn-lint on both templates', cfnLintVersion() ? undefined : 'cfn-lint is not on PATH (pip install cfn-lint)');
const built = gate('the packaging check', existsSync(join(root, 'dist', 'lambdas')) ? undefined : 'dist/lambdas is missing (npm run build)');

describe('cloudformation: cfn-lint', () => {
  cfnLint.it('when cfn-lint checks both templates, then it reports no error and no warning', () => {
    const { exitCode, output } = runCfnLint();
    expect(output).toBe('');
    expect(exitCode).toBe(0);
  }, 120_000);

  cfnLint.it('when cfn-lint checks frontend.yaml for us-east-1 and for eu-central-2 (a region without an ELB account), then it reports no error and no warning', () => {
    const { exitCode, output } = runCfnLint(['frontend'], {}, ['us-east-1', 'eu-central-2']);
    expect(output).toBe('');
    expect(exitCode).toBe(0);
    // The regions reach cfn-lint (it checks each resource type is offered there): one it does not know is refused by name.
    expect(runCfnLint(['frontend'], {}, ['eu-central-2', 'no-such-1']).output).toMatch(/Regions \['no-such-1'\] are unsupported/);
  }, 120_000);

  cfnLint.it('when cfn-lint checks backend.yaml deployed with QueueType fifo, then it reports no error and no warning', () => {
    // The FIFO branch of every Fn::If is only checked when the parameter takes it. AlarmEmail and CustomerMailFrom have no default.
    const { exitCode, output } = runCfnLint(['backend'], { QueueType: 'fifo', AlarmEmail: 'ops@example.com', CustomerMailFrom: 'orders@example.com' });
    expect(output).toBe('');
    expect(exitCode).toBe(0);
    // The same run refuses a queue type the template does not offer, so the parameter did reach cfn-lint.
    expect(runCfnLint(['backend'], { QueueType: 'FIFO', AlarmEmail: 'ops@example.com', CustomerMailFrom: 'orders@example.com' }).output).toMatch(/E2900:'FIFO' is not one of \['standard', 'fifo'\]/);
  }, 120_000);

  // The hand-written templates; a generated resource's ignored checks are explained in cloudformation/generate.ts.
  it.each(['backend', 'frontend'] as const)('when cloudformation/%s.yaml ignores a cfn-lint check, then a comment right above says why', (name) => {
    const lines = readSourceText(name).split('\n');
    lines.forEach((line, index) => {
      const ignored = /ignore_checks:\s*\[([^\]]*)\]/.exec(line)?.[1];
      if (ignored === undefined) return;
      // The comment block right above the list, joined.
      const comment: string[] = [];
      for (let above = index - 1; lines[above]?.trim().startsWith('#'); above -= 1) comment.unshift(lines[above]!.trim().replace(/^#\s*/, ''));
      for (const check of ignored.split(',').map((id) => id.trim())) expect(comment.join(' ')).toMatch(new RegExp(`^${check}: .{30,}`));
    });
  });
});

describe('cloudformation: parameters and outputs', () => {
  it.each(templates)('when %s.yaml is read, then every parameter is described and its default meets its own constraints', (_name, template) => {
    for (const [name, parameter] of Object.entries(template.Parameters)) {
      expect({ name, described: (parameter.Description ?? '').length > 10 }).toEqual({ name, described: true });
      if (parameter.AllowedPattern) {
        expect({ name, constraint: Boolean(parameter.ConstraintDescription) }).toEqual({ name, constraint: true });
        if (parameter.Default !== undefined) expect(String(parameter.Default)).toMatch(new RegExp(parameter.AllowedPattern));
      }
      if (parameter.Type === 'Number' && !parameter.AllowedValues) {
        expect({ name, bounded: parameter.MinValue !== undefined && parameter.MaxValue !== undefined }).toEqual({ name, bounded: true });
        if (parameter.Default !== undefined) {
          expect(Number(parameter.Default)).toBeGreaterThanOrEqual(parameter.MinValue!);
          expect(Number(parameter.Default)).toBeLessThanOrEqual(parameter.MaxValue!);
        }
      }
      if (parameter.AllowedValues && parameter.Default !== undefined) expect(parameter.AllowedValues).toContain(parameter.Default);
    }
  });

  it.each(templates)('when %s.yaml is read, then every output has a description and an export named after the stack', (_name, template) => {
    for (const [name, output] of Object.entries(template.Outputs)) {
      expect({ name, described: (output.Description ?? '').length > 10 }).toEqual({ name, described: true });
      expect(output.Export?.Name).toEqual({ 'Fn::Sub': `\${AWS::StackName}-${name}` });
    }
  });

  it('when the outputs are read, then the backend gives what the frontend and ops need and the frontend what the README names', () => {
    expect(Object.keys(backend.Outputs)).toEqual(
      expect.arrayContaining([
        'ApiBaseUrl', 'ApiKeyParameterName', 'OrdersQueueUrl', 'DeadLetterQueueUrl', 'TableName', 'OrderEventsTopicArn', 'OpsAlarmsTopicArn', 'KitchenScheduleRuleName', 'KitchenErrorAlarmName',
        'CartsTableName', 'ProductsTableName', 'CustomerNotificationsQueueUrl', 'CustomerNotificationsDeadLetterQueueUrl', 'UserPoolId', 'UserPoolClientId', 'UserPoolIssuer', 'CustomerMailIdentityArn',
      ]),
    );
    // Every declared function's name is an output (ops invoke the kitchen by it, and read logs by all).
    for (const name of functionNames) {
      const id = functionLogicalId(backend, name);
      expect({ name, output: id && backend.Outputs[`${id}Name`]?.Value }).toEqual({ name, output: ref(id!) });
    }
    expect(backend.Outputs.KitchenScheduleRuleName?.Value).toEqual(ref('KitchenScheduleRule'));
    expect(backend.Outputs.KitchenErrorAlarmName?.Value).toEqual(ref('AdvanceOrdersErrorsAlarm'));
    // What the frontend stack takes as CognitoUserPoolId, CognitoClientId and CognitoIssuer.
    expect(backend.Outputs.UserPoolId?.Value).toEqual(ref('CustomerUserPool'));
    expect(backend.Outputs.UserPoolClientId?.Value).toEqual(ref('CustomerUserPoolClient'));
    expect(backend.Outputs.UserPoolIssuer?.Value).toEqual({ 'Fn::Sub': 'https://${CustomerUserPool.ProviderURL}' });
    expect(backend.Outputs.CartsTableName?.Value).toEqual(ref('CartsTable'));
    expect(backend.Outputs.ProductsTableName?.Value).toEqual(ref('ProductsTable'));
    expect(Object.keys(frontend.Outputs)).toEqual(expect.arrayContaining(['SiteUrl', 'LoadBalancerDnsName', 'AutoScalingGroupName', 'ArtifactBucket']));
    expect(backend.Outputs.ApiBaseUrl?.Value).toEqual({
      'Fn::Sub': 'https://${OrdersApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${OrdersApiStage}',
    });
    // The frontend's defaults are the backend's outputs with no name prefix.
    expect(frontend.Parameters.ApiKeyParameterName?.Default).toBe(subWithDefaults(backend, props(backend, 'ApiKeyParameter').ParameterName));
  });

  it('when any output or the user data is read, then the API key itself is in none of them', () => {
    const apiKeyIds = resourcesOfType(backend, 'AWS::ApiGateway::ApiKey').map(([id]) => id);
    expect(apiKeyIds).toEqual(['OrdersApiKey']);
    const outputs = JSON.stringify([backend.Outputs, frontend.Outputs]);
    for (const id of apiKeyIds) {
      expect(outputs).not.toContain(`"${id}"`);
      expect(outputs).not.toContain(`\${${id}}`);
      expect(outputs).not.toContain(`${id}.`);
    }
    // API Gateway generates the value: it is in no template and no parameter.
    expect(props(backend, 'OrdersApiKey').Value).toBeUndefined();
    expect(Object.keys(frontend.Parameters).filter((name) => /key/i.test(name))).toEqual(['ArtifactKey', 'ApiKeyParameterName']);
    expect(userData()).not.toMatch(/^API_KEY=/m);
  });
});

describe('cloudformation: backend queues, table and event source mapping', () => {
  it('when the orders queue is read, then it has the settings and redrives to the DLQ after maxReceiveCount receives', () => {
    const queue = props(backend, 'OrdersQueue', 'AWS::SQS::Queue');
    expect(subWithDefaults(backend, queue.QueueName)).toBe(settings.names.queue);
    expect(queue).toMatchObject({
      VisibilityTimeout: settings.queue.visibilityTimeoutSeconds,
      MessageRetentionPeriod: settings.queue.messageRetentionSeconds,
      ReceiveMessageWaitTimeSeconds: settings.queue.receiveWaitTimeSeconds,
      RedrivePolicy: { deadLetterTargetArn: getAtt('OrdersDeadLetterQueue', 'Arn'), maxReceiveCount: ref('MaxReceiveCount') },
    });
    expect(backend.Parameters.MaxReceiveCount?.Default).toBe(settings.queue.maxReceiveCount);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functions['process-order'].timeoutSeconds);
  });

  it('when the DLQ is read, then it keeps messages 14 days and only the orders queue may redrive into it', () => {
    const dlq = props(backend, 'OrdersDeadLetterQueue', 'AWS::SQS::Queue');
    expect(subWithDefaults(backend, dlq.QueueName)).toBe(settings.names.deadLetterQueue);
    expect(dlq.MessageRetentionPeriod).toBe(settings.deadLetterQueue.messageRetentionSeconds);
    const allow = dlq.RedriveAllowPolicy as { redrivePermission: string; sourceQueueArns: unknown[] };
    expect(allow.redrivePermission).toBe('byQueue');
    expect(allow.sourceQueueArns.map((arn) => subWithDefaults(backend, arn))).toEqual([
      `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${settings.names.queue}`,
    ]);
  });

  it('when the QueueType parameter is read, then it offers standard (the default) and fifo, as settings.queue.type does', () => {
    expect(backend.Parameters.QueueType).toMatchObject({ Type: 'String', Default: settings.queue.type, AllowedValues: [...QUEUE_TYPES] });
  });

  it.each(QUEUE_TYPES)('when deployed with QueueType %s, then both queues are of that type, named for it, deduplicating by id only, and the DLQ admits only the orders queue', (queueType) => {
    const names = queueNames(queueType);
    const queue = resolveWith(backend, props(backend, 'OrdersQueue'), { QueueType: queueType }) as Record<string, unknown>;
    const dlq = resolveWith(backend, props(backend, 'OrdersDeadLetterQueue'), { QueueType: queueType }) as Record<string, unknown>;
    // On standard, FifoQueue and ContentBasedDeduplication are left out (SQS makes a standard queue without them).
    const fifo = queueType === 'fifo' ? { FifoQueue: true, ContentBasedDeduplication: settings.queue.contentBasedDeduplication } : { FifoQueue: undefined, ContentBasedDeduplication: undefined };
    expect({ name: queue.QueueName, FifoQueue: queue.FifoQueue, ContentBasedDeduplication: queue.ContentBasedDeduplication }).toEqual({ name: names.queue, ...fifo });
    expect({ name: dlq.QueueName, FifoQueue: dlq.FifoQueue, ContentBasedDeduplication: dlq.ContentBasedDeduplication }).toEqual({ name: names.deadLetterQueue, ...fifo });
    expect((dlq.RedriveAllowPolicy as { sourceQueueArns: unknown[] }).sourceQueueArns).toEqual([`arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${names.queue}`]);
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: getAtt('OrdersDeadLetterQueue', 'Arn'), maxReceiveCount: settings.queue.maxReceiveCount });
  });

  it.each(QUEUE_TYPES)('when deployed with QueueType %s, then the event source mapping has the settings mappingSettings gives that type', (queueType) => {
    const mapping = resource(backend, 'ProcessOrderEventSourceMapping', 'AWS::Lambda::EventSourceMapping');
    const resolved = resolveWith(backend, mapping.Properties, { QueueType: queueType }) as Record<string, unknown>;
    const expected = mappingSettings(triggerOf('process-order', 'queue'), queueType);
    expect({ batchSize: resolved.BatchSize, maximumBatchingWindowSeconds: resolved.MaximumBatchingWindowInSeconds, maximumConcurrency: (resolved.ScalingConfig as Record<string, unknown>).MaximumConcurrency }).toEqual(expected);
    expect('MaximumBatchingWindowInSeconds' in resolved).toBe(queueType !== 'fifo');
  });

  it('when the event source mappings are read, then each queue-triggered function gets its declared batches and reports item failures', () => {
    // Resolved with the parameters' defaults (a standard queue): FIFO's mapping is checked above.
    const mappings = resourcesOfType(backend, 'AWS::Lambda::EventSourceMapping').map(([, mapping]) => resolveWith(backend, mapping.Properties) as Record<string, unknown> | undefined);
    const queueIds: Record<string, string> = { orders: 'OrdersQueue', 'customer-notifications': 'CustomerNotificationsQueue' };
    const declared = functionNames.flatMap((name) => {
      const trigger = functions[name].trigger;
      return trigger.type === 'queue' ? [{ name, trigger }] : [];
    });
    expect(declared.map(({ name }) => name).sort()).toEqual(['notify-customer', 'process-order']);
    expect(mappings).toHaveLength(declared.length);
    for (const { name, trigger } of declared) {
      expect({ name, mapping: mappings.find((mapping) => JSON.stringify(mapping?.FunctionName) === JSON.stringify(ref(functionId(name)))) }).toEqual({
        name,
        mapping: {
          EventSourceArn: getAtt(queueIds[trigger.queue]!, 'Arn'),
          FunctionName: ref(functionId(name)),
          BatchSize: trigger.batchSize,
          MaximumBatchingWindowInSeconds: trigger.maximumBatchingWindowSeconds,
          ScalingConfig: { MaximumConcurrency: trigger.maximumConcurrency },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
      });
    }
  });

  it('when the table is read, then it is keyed by order_id, on demand, with PITR, SSE and deletion protection from a parameter', () => {
    const table = props(backend, 'OrdersTable', 'AWS::DynamoDB::Table');
    expect(subWithDefaults(backend, table.TableName)).toBe(settings.names.table);
    expect(table).toMatchObject({
      BillingMode: settings.table.billingMode,
      KeySchema: [{ AttributeName: orderTable.partitionKey, KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: { 'Fn::If': ['ProtectTable', true, false] },
    });
    expect(backend.Conditions?.ProtectTable).toEqual({ 'Fn::Equals': [ref('TableDeletionProtection'), 'true'] });
    expect(backend.Parameters.TableDeletionProtection?.Default).toBe('true');
  });

  it('when the table is read, then it has the sparse due-orders index exactly as the local stack creates it from the order store', () => {
    const table = props(backend, 'OrdersTable', 'AWS::DynamoDB::Table');
    const local = orderTableDefinition(settings.names.table);
    expect(table.AttributeDefinitions).toEqual(local.AttributeDefinitions);
    expect(table.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect((table.GlobalSecondaryIndexes as { IndexName: string }[]).map((index) => index.IndexName)).toEqual([orderTable.dueIndex.name, orderTable.accountIndex.name]);
  });

  it('when the carts table is read, then it is keyed as the cart store says, expires by TTL, and is recoverable, encrypted and protected like orders', () => {
    const table = props(backend, 'CartsTable', 'AWS::DynamoDB::Table');
    const local = cartTableDefinition(settings.names.cartsTable);
    expect(subWithDefaults(backend, table.TableName)).toBe(settings.names.cartsTable);
    expect(table).toEqual({
      TableName: { 'Fn::Sub': `\${NamePrefix}${settings.names.cartsTable}` },
      BillingMode: local.BillingMode,
      AttributeDefinitions: local.AttributeDefinitions,
      KeySchema: local.KeySchema,
      TimeToLiveSpecification: { AttributeName: cartTable.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: { 'Fn::If': ['ProtectTable', true, false] },
    });
    expect(backend.Parameters.CartTtlSeconds?.Default).toBe(settings.cart.ttlSeconds);
  });

  it('when the products table is read, then it is keyed as the product store says, has no TTL, and is recoverable, encrypted and protected like orders', () => {
    const table = props(backend, 'ProductsTable', 'AWS::DynamoDB::Table');
    const local = productTableDefinition(settings.names.productsTable);
    expect(subWithDefaults(backend, table.TableName)).toBe(settings.names.productsTable);
    expect(table).toEqual({
      TableName: { 'Fn::Sub': `\${NamePrefix}${settings.names.productsTable}` },
      BillingMode: local.BillingMode,
      AttributeDefinitions: local.AttributeDefinitions,
      KeySchema: local.KeySchema,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: { 'Fn::If': ['ProtectTable', true, false] },
    });
  });

  it('when the customer notifications are read, then order-events delivers its mail events raw to their queue, which only it may send to, and which redrives to its own DLQ', () => {
    const queue = props(backend, 'CustomerNotificationsQueue', 'AWS::SQS::Queue');
    expect(subWithDefaults(backend, queue.QueueName)).toBe(settings.names.customerNotificationsQueue);
    expect(queue).toMatchObject({
      VisibilityTimeout: settings.queue.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt('CustomerNotificationsDeadLetterQueue', 'Arn'), maxReceiveCount: ref('MaxReceiveCount') },
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functions['notify-customer'].timeoutSeconds);
    const dlq = props(backend, 'CustomerNotificationsDeadLetterQueue', 'AWS::SQS::Queue');
    expect(subWithDefaults(backend, dlq.QueueName)).toBe(settings.names.customerNotificationsDeadLetterQueue);
    expect(dlq).toMatchObject({ MessageRetentionPeriod: settings.deadLetterQueue.messageRetentionSeconds, SqsManagedSseEnabled: true });
    expect((dlq.RedriveAllowPolicy as { sourceQueueArns: unknown[] }).sourceQueueArns.map((arn) => subWithDefaults(backend, arn))).toEqual([
      `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${settings.names.customerNotificationsQueue}`,
    ]);
    expect(props(backend, 'CustomerNotificationsSubscription', 'AWS::SNS::Subscription')).toEqual({
      TopicArn: ref('OrderEventsTopic'),
      Protocol: 'sqs',
      Endpoint: getAtt('CustomerNotificationsQueue', 'Arn'),
      RawMessageDelivery: true,
      FilterPolicyScope: 'MessageAttributes',
      FilterPolicy: CUSTOMER_MAIL_FILTER,
    });
    expect(resource(backend, 'CustomerNotificationsSubscription').DependsOn).toBe('CustomerNotificationsQueuePolicy');
    expect(props(backend, 'CustomerNotificationsQueuePolicy', 'AWS::SQS::QueuePolicy')).toEqual({
      Queues: [ref('CustomerNotificationsQueue')],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'OrderEventsDelivers', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: getAtt('CustomerNotificationsQueue', 'Arn'), Condition: { ArnEquals: { 'aws:SourceArn': ref('OrderEventsTopic') } } },
        ],
      },
    });
    expect(props(backend, 'CustomerNotificationsDeadLetterQueueAlarm', 'AWS::CloudWatch::Alarm')).toMatchObject({
      MetricName: settings.alarm.metricName,
      Dimensions: [{ Name: 'QueueName', Value: getAtt('CustomerNotificationsDeadLetterQueue', 'QueueName') }],
      Statistic: settings.alarm.statistic,
      Threshold: settings.alarm.threshold,
      AlarmActions: [ref('OpsAlarmsTopic')],
      OKActions: [ref('OpsAlarmsTopic')],
    });
    expect(props(backend, 'CustomerMailFromIdentity', 'AWS::SES::EmailIdentity')).toEqual({ EmailIdentity: ref('CustomerMailFrom') });
    expect(backend.Parameters.CustomerMailFrom?.Default).toBeUndefined();
  });
});

/** Each declared function's logical id in backend.yaml, found by its FunctionName (undefined when it is missing). */
const FUNCTIONS = Object.fromEntries(functionNames.map((name) => [name, functionLogicalId(backend, name)])) as Record<FunctionName, string | undefined>;

/** The logical id of a declared function, failing with its name when backend.yaml does not deploy it. */
function functionId(name: FunctionName): string {
  const id = FUNCTIONS[name];
  if (!id) throw new Error(`platform/functions.ts declares ${name}, but backend.yaml has no AWS::Lambda::Function named ${name}`);
  return id;
}

/** The environment variables each handler validates at start: the keys of its wiring's exported zod `configSchema`. */
const envRead = new Map<FunctionName, string[]>();
beforeAll(async () => {
  // One import at a time: jest's ESM loader fails on modules that share dependencies when imported at once.
  for (const name of functionNames) {
    const { configSchema } = (await import(join(root, functions[name].wiring))) as { configSchema?: { shape: Record<string, unknown> } };
    if (!configSchema) throw new Error(`${functions[name].wiring} exports no configSchema to read its variables from`);
    envRead.set(name, Object.keys(configSchema.shape));
  }
});
const envReadBy = (name: FunctionName): string[] => envRead.get(name) ?? [];

describe('cloudformation: backend Lambdas', () => {
  it('when the declaration is read, then backend.yaml deploys every declared function and no other', () => {
    expect([...deployedFunctions(backend).keys()].sort()).toEqual([...functionNames].sort());
  });

  it.each(functionNames)('when %s is read, then runtime, architecture, memory, timeout, description and packaged code match the declaration and the build', (name) => {
    const id = functionId(name);
    const fn = props(backend, id, 'AWS::Lambda::Function');
    const { memoryMb, timeoutSeconds, description } = functions[name];
    expect(fn.Description).toBe(description);
    expect(fn).toMatchObject({
      Runtime: settings.lambda.runtime,
      Architectures: [settings.lambda.architecture],
      MemorySize: memoryMb,
      Timeout: timeoutSeconds,
      Handler: 'index.handler',
      Role: getAtt(id.replace('Function', 'Role'), 'Arn'),
    });
    expect(subWithDefaults(backend, fn.FunctionName)).toBe(name);
    // `aws cloudformation package` resolves Code relative to the template: it must land on npm run build's zip.
    expect(resolve(dirname(templatePath('backend')), fn.Code as string)).toBe(join(root, 'dist', 'lambdas', `${name}.zip`));
  });

  it.each(functionNames)('when %s starts, then every variable its handler reads is set as declared, with the Powertools ones', (name) => {
    const variables = (props(backend, functionId(name)).Environment as { Variables: Record<string, unknown> }).Variables;
    const read = envReadBy(name);
    const declared = expectedBindings(name);
    expect(read.length).toBeGreaterThan(0);
    // The declaration names what the handler reads, and the template sets exactly that.
    expect([...read].sort()).toEqual(Object.keys(declared).sort());
    expect(Object.keys(variables).sort()).toEqual([...Object.keys(declared), 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'].sort());
    expect(variables.POWERTOOLS_SERVICE_NAME).toBe(name);
    expect(variables.POWERTOOLS_LOG_LEVEL).toEqual(ref('LogLevel'));
    expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe('OrderPipeline');
    expect(props(backend, functionId(name)).TracingConfig).toEqual({ Mode: 'Active' });
    for (const key of Object.keys(declared)) expect({ key, value: variables[key] }).toEqual({ key, value: CFN_REFS[declared[key]!] });
  });

  it('when the timings are left at their defaults, then ORDER_TIMINGS is the settings\' JSON, which the functions accept', () => {
    const sub = (CFN_REFS['lifecycle-timings'] as { 'Fn::Sub': string })['Fn::Sub'];
    const json = subWithDefaults(backend, { 'Fn::Sub': sub });
    expect(JSON.parse(json)).toEqual(settings.lifecycle.timingsSeconds);
    expect(lifecycleTimingsJson.parse(json)).toEqual(settings.lifecycle.timingsSeconds);
    for (const parameter of Object.values(CFN_TIMINGS_PARAMETERS)) {
      const pattern = new RegExp(backend.Parameters[parameter]!.AllowedPattern!);
      expect({ parameter, accepted: ['0', '1', '60', '9999', '10000', '86399', '86400'].filter((value) => !pattern.test(value)) }).toEqual({ parameter, accepted: [] });
      // Fractions, leading zeros (not JSON), signs, and a day and a second are refused.
      expect({ parameter, refused: ['', '-1', '1.5', '060', '86401', '99999', '1e3'].filter((value) => pattern.test(value)) }).toEqual({ parameter, refused: [] });
    }
  });

  it('when each function logs, then it has its own log group with a retention', () => {
    for (const name of functionNames) {
      const id = functionId(name);
      const logGroupId = id.replace('Function', 'LogGroup');
      const group = props(backend, logGroupId, 'AWS::Logs::LogGroup');
      expect(subWithDefaults(backend, group.LogGroupName)).toBe(`/aws/lambda/${name}`);
      expect(group.RetentionInDays).toEqual(ref('LogRetentionDays'));
      expect(props(backend, id).LoggingConfig).toEqual({ LogGroup: ref(logGroupId) });
    }
  });

  it('when the roles are read, then each function may do exactly its job, log to its own group and write traces', () => {
    const logs = (group: string) => [
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: getAtt(group, 'Arn') },
      { actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resource: '*' },
    ];
    // The menu: a Scan of the products table (a few dozen items), by submit-order, cart and checkout.
    const readMenu = { actions: ['dynamodb:Scan'], resource: getAtt('ProductsTable', 'Arn') };
    expect(roleGrants(backend, 'SubmitOrderRole')).toEqual([{ actions: ['sqs:SendMessage'], resource: getAtt('OrdersQueue', 'Arn') }, readMenu, ...logs('SubmitOrderLogGroup')]);
    expect(roleGrants(backend, 'ProcessOrderRole')).toEqual([
      { actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resource: getAtt('OrdersQueue', 'Arn') },
      { actions: ['dynamodb:PutItem'], resource: getAtt('OrdersTable', 'Arn') },
      { actions: ['sns:Publish'], resource: ref('OrderEventsTopic') },
      { actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resource: getAtt('NotificationsKey', 'Arn') },
      ...logs('ProcessOrderLogGroup'),
    ]);
    expect(roleGrants(backend, 'GetOrderRole')).toEqual([{ actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resource: getAtt('OrdersTable', 'Arn') }, ...logs('GetOrderLogGroup')]);
    // The kitchen: Query on the due-orders index ARN only (not the table, not index/*, no Scan).
    expect(roleGrants(backend, 'AdvanceOrdersRole')).toEqual([
      { actions: ['dynamodb:Query'], resource: { 'Fn::Sub': `\${OrdersTable.Arn}/index/${orderTable.dueIndex.name}` } },
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: getAtt('OrdersTable', 'Arn') },
      { actions: ['sns:Publish'], resource: ref('OrderEventsTopic') },
      { actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resource: getAtt('NotificationsKey', 'Arn') },
      ...logs('AdvanceOrdersLogGroup'),
    ]);
    expect(roleGrants(backend, 'CartRole')).toEqual([{ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resource: getAtt('CartsTable', 'Arn') }, readMenu, ...logs('CartLogGroup')]);
    expect(roleGrants(backend, 'CheckoutRole')).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resource: getAtt('CartsTable', 'Arn') },
      { actions: ['sqs:SendMessage'], resource: getAtt('OrdersQueue', 'Arn') },
      readMenu,
      ...logs('CheckoutLogGroup'),
    ]);
    // my-orders: Query on the account-orders index ARN only (not the table, not index/*, no Scan); a cancel is an UpdateItem, published.
    expect(roleGrants(backend, 'MyOrdersRole')).toEqual([
      { actions: ['dynamodb:Query'], resource: { 'Fn::Sub': `\${OrdersTable.Arn}/index/${orderTable.accountIndex.name}` } },
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: getAtt('OrdersTable', 'Arn') },
      { actions: ['sns:Publish'], resource: ref('OrderEventsTopic') },
      { actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resource: getAtt('NotificationsKey', 'Arn') },
      ...logs('MyOrdersLogGroup'),
    ]);
    expect(roleGrants(backend, 'NotifyCustomerRole')).toEqual([
      { actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resource: getAtt('CustomerNotificationsQueue', 'Arn') },
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: getAtt('OrdersTable', 'Arn') },
      { actions: ['ses:SendEmail'], resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${CustomerMailFromIdentity}' } },
      ...logs('NotifyCustomerLogGroup'),
    ]);
    const send = policyStatements(backend).find(({ where, statement }) => where.startsWith('NotifyCustomerRole.') && actionsOf(statement).includes('ses:SendEmail'));
    expect(send?.statement.Condition).toEqual({ StringEquals: { 'ses:FromAddress': ref('CustomerMailFrom') } });
  });

  it('when the kitchen\'s schedule is read, then an EventBridge rule runs advance-orders at the declared rate, and only that rule may invoke it', () => {
    const trigger = triggerOf('advance-orders', 'schedule');
    const [rule, ...others] = resourcesOfType(backend, 'AWS::Events::Rule');
    expect(others).toEqual([]);
    expect(rule?.[0]).toBe('KitchenScheduleRule');
    expect(rule?.[1].Properties).toEqual({
      Name: { 'Fn::Sub': '${NamePrefix}advance-orders-schedule' },
      Description: expect.any(String) as unknown,
      ScheduleExpression: ref('KitchenScheduleExpression'),
      State: 'ENABLED',
      Targets: [{ Id: 'advance-orders', Arn: getAtt(functionId('advance-orders'), 'Arn') }],
    });
    expect(resolveDefault(backend, ref('KitchenScheduleExpression'))).toBe(trigger.expression);
    const schedule = new RegExp(backend.Parameters.KitchenScheduleExpression!.AllowedPattern!);
    expect(['rate(1 minute)', 'rate(5 minutes)', 'cron(0/2 * * * ? *)'].filter((value) => !schedule.test(value))).toEqual([]);
    expect(['', 'rate(1 minutes)', 'rate(0 minutes)', 'every minute'].filter((value) => schedule.test(value))).toEqual([]);
    expect(props(backend, 'KitchenSchedulePermission', 'AWS::Lambda::Permission')).toEqual({
      FunctionName: ref(functionId('advance-orders')),
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: getAtt('KitchenScheduleRule', 'Arn'),
      SourceAccount: ref('AWS::AccountId'),
    });
  });
});

describe('cloudformation: backend API', () => {
  /** METHOD /path for every method, walking each resource up to the API's root. */
  function routes(): { route: string; id: string }[] {
    const pathOf = (resourceId: unknown): string => {
      if (JSON.stringify(resourceId) === JSON.stringify(getAtt('OrdersApi', 'RootResourceId'))) return '';
      const { ParentId, PathPart } = props(backend, (resourceId as { Ref: string }).Ref, 'AWS::ApiGateway::Resource');
      return `${pathOf(ParentId)}/${PathPart as string}`;
    };
    return resourcesOfType(backend, 'AWS::ApiGateway::Method').map(([id, method]) => ({
      id,
      route: `${method.Properties!.HttpMethod as string} ${pathOf(method.Properties!.ResourceId)}`,
    }));
  }

  /** Each declared route, with the function that serves it and whether it needs the customer's token. */
  const declaredRoutes = functionNames.flatMap((name) => {
    const trigger = functions[name].trigger;
    return trigger.type === 'api' ? trigger.routes.map((route) => ({ route, name, cognito: trigger.authorizer === 'cognito' })) : [];
  });

  it('when the REST API is read, then it has exactly the declared routes, each key-protected (and /me and /staff ones behind the Cognito authorizer) and proxied to its Lambda', () => {
    expect(routes().map(({ route }) => route).sort()).toEqual([...apiRoutes].sort());
    expect(declaredRoutes.filter(({ cognito }) => cognito).map(({ route }) => route).sort()).toEqual(['DELETE /me/cart/lines/{product_id}', 'GET /me/cart', 'GET /me/orders', 'GET /me/orders/{id}', 'GET /staff/orders', 'POST /me/orders', 'POST /me/orders/{id}/cancel', 'POST /staff/menu', 'POST /staff/orders/{id}/advance', 'POST /staff/orders/{id}/cancel', 'PUT /me/cart/lines/{product_id}']);
    for (const { id, route } of routes()) {
      const declared = declaredRoutes.find((candidate) => candidate.route === route)!;
      const method = props(backend, id);
      expect({ route, method }).toMatchObject({
        route,
        method: { ApiKeyRequired: true, RestApiId: ref('OrdersApi'), ...(declared.cognito ? { AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: ref('CustomersAuthorizer') } : { AuthorizationType: 'NONE' }) },
      });
      if (!declared.cognito) expect(method.AuthorizerId).toBeUndefined();
      // Each {parameter} of the path is a required path parameter, and nothing else (the function checks ?ids= itself).
      const pathParameters = [...route.matchAll(/\{([^}]+)\}/g)].map(([, name]) => `method.request.path.${name!}`);
      expect({ route, parameters: method.RequestParameters }).toEqual({ route, parameters: pathParameters.length > 0 ? Object.fromEntries(pathParameters.map((name) => [name, true])) : undefined });
      expect(method.Integration).toEqual({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: { 'Fn::Sub': `arn:\${AWS::Partition}:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${${functionId(declared.name)}.Arn}/invocations` },
      });
    }
  });

  it('when the Cognito authorizer is read, then it checks the Authorization header\'s token against the customers\' pool, which signs in by email, and the web tier\'s client has no secret', () => {
    expect(props(backend, 'CustomersAuthorizer', 'AWS::ApiGateway::Authorizer')).toEqual({
      Name: { 'Fn::Sub': '${NamePrefix}customers' },
      RestApiId: ref('OrdersApi'),
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [getAtt('CustomerUserPool', 'Arn')],
      IdentitySource: 'method.request.header.Authorization',
    });
    const { userPool } = settings.accounts;
    const pool = props(backend, 'CustomerUserPool', 'AWS::Cognito::UserPool');
    expect(subWithDefaults(backend, pool.UserPoolName)).toBe(userPool.name);
    expect(pool).toMatchObject({
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      DeletionProtection: { 'Fn::If': ['ProtectUserPool', 'ACTIVE', 'INACTIVE'] },
      UserPoolAddOns: { AdvancedSecurityMode: ref('UserPoolAdvancedSecurityMode') },
      Policies: { PasswordPolicy: { ...userPool.passwordPolicy } },
      // A changed address takes effect only once its code is typed.
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
    });
    // The staff's group, by the name the code checks.
    expect(props(backend, 'StaffGroup', 'AWS::Cognito::UserPoolGroup')).toMatchObject({ GroupName: settings.accounts.staffGroup, UserPoolId: ref('CustomerUserPool') });
    expect(backend.Parameters.UserPoolDeletionProtection?.Default).toBe('true');
    expect(backend.Parameters.UserPoolAdvancedSecurityMode?.Default).toBe('OFF');
    expect(props(backend, 'CustomerUserPoolClient', 'AWS::Cognito::UserPoolClient')).toMatchObject({
      ClientName: userPool.clientName,
      UserPoolId: ref('CustomerUserPool'),
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      IdTokenValidity: userPool.idTokenValidityMinutes,
      RefreshTokenValidity: userPool.refreshTokenValidityDays,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'days' },
    });
  });

  it('when API Gateway invokes the functions, then each permission is scoped to its own route', () => {
    const permissions = resourcesOfType(backend, 'AWS::Lambda::Permission').map(([, permission]) => permission.Properties!);
    // Not API Gateway's: the kitchen's schedule (its own test above).
    expect(permissions.filter((permission) => permission.Principal !== 'apigateway.amazonaws.com')).toEqual([expect.objectContaining({ FunctionName: ref('AdvanceOrdersFunction'), Principal: 'events.amazonaws.com' })]);
    const arn = (route: string) => {
      const [method, path] = route.split(' ');
      return { 'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${OrdersApi}/*/${method!}${path!.replace(/\{[^}]+\}/g, '*')}` };
    };
    expect(permissions.filter((permission) => permission.Principal === 'apigateway.amazonaws.com').map(({ FunctionName, SourceArn, SourceAccount }) => ({ FunctionName, SourceArn, SourceAccount }))).toEqual(
      expect.arrayContaining(declaredRoutes.map(({ route, name }) => ({ FunctionName: ref(functionId(name)), SourceArn: arn(route), SourceAccount: ref('AWS::AccountId') }))),
    );
    expect(permissions.filter((permission) => permission.Principal === 'apigateway.amazonaws.com')).toHaveLength(declaredRoutes.length);
  });

  it('when the stage and usage plan are read, then stage v1 is throttled at 100/s, burst 200, for the one API key', () => {
    expect(props(backend, 'OrdersApiStage', 'AWS::ApiGateway::Stage').StageName).toBe(settings.api.stageName);
    // One deployment, of every method, named for them: CloudFormation does not redeploy an unchanged Deployment.
    const [deployment, ...others] = resourcesOfType(backend, 'AWS::ApiGateway::Deployment');
    expect(others).toEqual([]);
    expect(deployment?.[0]).toMatch(/^OrdersApiDeployment[0-9a-f]{8}$/);
    expect(deployment?.[1].DependsOn).toEqual(routes().map(({ id }) => id));
    expect(props(backend, 'OrdersApiStage').DeploymentId).toEqual(ref(deployment![0]));
    expect(props(backend, 'OrdersUsagePlan', 'AWS::ApiGateway::UsagePlan')).toMatchObject({
      ApiStages: [{ ApiId: ref('OrdersApi'), Stage: ref('OrdersApiStage') }],
      Throttle: { RateLimit: settings.api.throttleRateLimit, BurstLimit: settings.api.throttleBurstLimit },
    });
    expect(props(backend, 'OrdersUsagePlanKey')).toEqual({ KeyId: ref('OrdersApiKey'), KeyType: 'API_KEY', UsagePlanId: ref('OrdersUsagePlan') });
  });

  it('when the API key is stored, then a custom resource writes it as a SecureString that only it may write', () => {
    // CloudFormation's AWS::SSM::Parameter cannot make a SecureString: none is used for the key.
    expect(resourcesOfType(backend, 'AWS::SSM::Parameter')).toEqual([]);
    const parameter = resource(backend, 'ApiKeyParameter', 'Custom::ApiKeyParameter').Properties!;
    expect(parameter).toMatchObject({ ServiceToken: getAtt('ApiKeyParameterWriterFunction', 'Arn'), ApiKeyId: ref('OrdersApiKey') });
    expect(subWithDefaults(backend, parameter.ParameterName)).toBe('/order-pipeline/api-key');
    const code = (props(backend, 'ApiKeyParameterWriterFunction').Code as { ZipFile: string }).ZipFile;
    expect(code).toContain("Type: 'SecureString'");
    expect(code).toContain('includeValue: true');
    // Neither the key nor the response to CloudFormation carries the value.
    expect(code).not.toMatch(/console\.\w+\([^)]*(key\.value|Value)/);
    expect(code).toMatch(/Data: \{ ParameterName \}/);
    expect(roleGrants(backend, 'ApiKeyParameterWriterRole')).toEqual([
      { actions: ['apigateway:GET'], resource: { 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}::/apikeys/${OrdersApiKey}' } },
      { actions: ['ssm:PutParameter', 'ssm:DeleteParameter'], resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${NamePrefix}order-pipeline/api-key' } },
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: getAtt('ApiKeyParameterWriterLogGroup', 'Arn') },
    ]);
    expect(backend.Outputs.ApiKeyParameterName?.Value).toEqual(getAtt('ApiKeyParameter', 'ParameterName'));
  });
});

describe('cloudformation: backend notifications and alarms', () => {
  it('when the DLQ alarm is read, then it watches visible messages with the settings and notifies ops-alarms both ways', () => {
    const alarm = props(backend, 'DeadLetterQueueAlarm', 'AWS::CloudWatch::Alarm');
    expect(subWithDefaults(backend, alarm.AlarmName)).toBe(settings.names.dlqAlarm);
    expect(alarm).toMatchObject({
      Namespace: settings.alarm.namespace,
      MetricName: settings.alarm.metricName,
      Dimensions: [{ Name: 'QueueName', Value: getAtt('OrdersDeadLetterQueue', 'QueueName') }],
      Statistic: settings.alarm.statistic,
      ComparisonOperator: settings.alarm.comparisonOperator,
      Threshold: settings.alarm.threshold,
      Period: settings.alarm.periodSeconds,
      EvaluationPeriods: settings.alarm.evaluationPeriods,
      TreatMissingData: settings.alarm.treatMissingData,
      AlarmActions: [ref('OpsAlarmsTopic')],
      OKActions: [ref('OpsAlarmsTopic')],
    });
  });

  it('when the backlog alarm is read, then it fires when the oldest order has waited 300 s', () => {
    expect(props(backend, 'OldestOrderAgeAlarm', 'AWS::CloudWatch::Alarm')).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('OrdersQueue', 'QueueName') }],
      Statistic: 'Maximum',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [ref('OpsAlarmsTopic')],
      OKActions: [ref('OpsAlarmsTopic')],
    });
  });

  it.each(functionNames.flatMap((name) => (['Errors', 'Throttles'] as const).map((metric) => [name, metric] as const)))('when %s has %s, then its own alarm (Sum >= threshold in a period) notifies ops-alarms both ways', (name, metric) => {
    const alarms = resourcesOfType(backend, 'AWS::CloudWatch::Alarm').filter(
      ([, alarm]) => alarm.Properties!.MetricName === metric && JSON.stringify(alarm.Properties!.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: ref(functionId(name)) }]),
    );
    expect(alarms).toHaveLength(1);
    const alarm = alarms[0]![1].Properties!;
    expect(subWithDefaults(backend, alarm.AlarmName)).toBe(`${name}-${metric.toLowerCase()}`);
    expect(alarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: ref(metric === 'Errors' ? 'LambdaErrorAlarmThreshold' : 'LambdaThrottleAlarmThreshold'),
      Period: settings.alarm.periodSeconds,
      EvaluationPeriods: settings.alarm.evaluationPeriods,
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref('OpsAlarmsTopic')],
      OKActions: [ref('OpsAlarmsTopic')],
    });
  });

  it('when the optional order-events mail is read, then it passes order.received only, as the local stack\'s does', () => {
    expect(props(backend, 'OrderEventsEmailSubscription', 'AWS::SNS::Subscription')).toEqual({
      TopicArn: ref('OrderEventsTopic'),
      Protocol: 'email',
      Endpoint: ref('OrderEventsEmail'),
      FilterPolicyScope: 'MessageAttributes',
      FilterPolicy: ORDER_EVENTS_EMAIL_FILTER,
    });
  });

  it('when the dashboard is read, then it shows every business metric a function counts, by its service', () => {
    const body = subWithDefaults(backend, props(backend, 'PipelineDashboard', 'AWS::CloudWatch::Dashboard').DashboardBody);
    expect(dashboardBusinessMetrics(body, 'OrderPipeline')).toEqual(countedBusinessMetrics());
  });

  it('when the topics are read, then both use the rotating customer key that CloudWatch may use, and admins get email', () => {
    for (const [id, name] of [['OpsAlarmsTopic', settings.names.opsAlarmsTopic], ['OrderEventsTopic', settings.names.orderEventsTopic]] as const) {
      const topic = props(backend, id, 'AWS::SNS::Topic');
      expect(subWithDefaults(backend, topic.TopicName)).toBe(name);
      expect(topic.KmsMasterKeyId).toEqual(getAtt('NotificationsKey', 'Arn'));
    }
    expect(props(backend, 'NotificationsKey', 'AWS::KMS::Key').EnableKeyRotation).toBe(true);
    const cloudWatch = policyStatements(backend).find(({ where, statement }) => where === 'NotificationsKey.KeyPolicy' && JSON.stringify(statement.Principal).includes('cloudwatch.amazonaws.com'));
    expect(cloudWatch && actionsOf(cloudWatch.statement).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);

    expect(props(backend, 'OpsAlarmsEmailSubscription')).toEqual({ TopicArn: ref('OpsAlarmsTopic'), Protocol: 'email', Endpoint: ref('AlarmEmail') });
    const alarmEmail = new RegExp(backend.Parameters.AlarmEmail!.AllowedPattern!);
    expect(['ops@example.com'].filter((value) => alarmEmail.test(value))).toHaveLength(1);
    expect(['', 'ops', 'ops@example', 'a b@example.com'].filter((value) => alarmEmail.test(value))).toEqual([]);
    expect(resource(backend, 'OrderEventsEmailSubscription').Condition).toBe('HasOrderEventsEmail');
  });
});

describe('cloudformation: security by default (both templates)', () => {
  it.each(templates)('when %s.yaml grants anything, then no Allow statement has a wildcard action', (_name, template) => {
    const wildcards = policyStatements(template)
      .filter(({ statement }) => statement.Effect === 'Allow')
      .flatMap(({ where, statement }) => actionsOf(statement).filter((action) => action.includes('*')).map((action) => `${where}: ${action}`));
    expect(wildcards).toEqual([]);
  });

  it.each(templates)('when %s.yaml grants on Resource "*", then it is where AWS offers nothing narrower (the policy test\'s list)', (_name, template) => {
    const starred = cloudFormationModel(template).statements.filter((statement) => statement.effect === 'Allow' && statement.resources.includes('*'));
    for (const statement of starred) expect(WILDCARD_RESOURCES_ALLOWED.some((allowed) => allowed.applies(statement))).toBe(true);
  });

  it.each(templates)('when %s.yaml stores data, then every queue, topic, table, bucket and volume is encrypted at rest', (_name, template) => {
    for (const [, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) expect(queue.Properties?.SqsManagedSseEnabled ?? queue.Properties?.KmsMasterKeyId).toBeTruthy();
    for (const [, topic] of resourcesOfType(template, 'AWS::SNS::Topic')) expect(topic.Properties?.KmsMasterKeyId).toBeTruthy();
    for (const [, table] of resourcesOfType(template, 'AWS::DynamoDB::Table')) expect(table.Properties?.SSESpecification).toEqual({ SSEEnabled: true });
    for (const [, bucket] of resourcesOfType(template, 'AWS::S3::Bucket')) {
      expect(bucket.Properties?.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms)$/) as unknown } }] });
    }
    for (const [, template_] of resourcesOfType(template, 'AWS::EC2::LaunchTemplate')) {
      const mappings = (template_.Properties!.LaunchTemplateData as { BlockDeviceMappings: { Ebs: Record<string, unknown> }[] }).BlockDeviceMappings;
      for (const { Ebs } of mappings) expect(Ebs).toMatchObject({ Encrypted: true, VolumeType: 'gp3' });
    }
    expect(resourcesOfType(template, 'AWS::EC2::Volume')).toEqual([]);
  });
});

/** The web role's queue ARNs: the queues each web process names <EventQueuePrefix><16 hex digits>. */
const EVENT_QUEUE_ARNS = { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${NamePrefix}order-web-events-*' };

/** What the web role may do for the live status: its own queues, the sweep's listing, its subscriptions to order-events. */
const EVENT_GRANTS = [
  {
    actions: ['sqs:CreateQueue', 'sqs:DeleteQueue', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes', 'sqs:TagQueue', 'sqs:ListQueueTags', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
    resource: EVENT_QUEUE_ARNS,
  },
  { actions: ['sqs:ListQueues'], resource: '*' },
  { actions: ['sns:Subscribe'], resource: { Ref: 'OrderEventsTopicArn' } },
  { actions: ['sns:ListSubscriptionsByTopic'], resource: { Ref: 'OrderEventsTopicArn' } },
  // The topic, and its subscriptions (<topic ARN>:<id>), which an Unsubscribe request names.
  { actions: ['sns:Unsubscribe'], resource: [{ Ref: 'OrderEventsTopicArn' }, { 'Fn::Sub': '${OrderEventsTopicArn}:*' }] },
];

/** The launch template's user data script, as written (with ${...} substitutions). */
function userData(): string {
  const data = (props(frontend, 'LaunchTemplate').LaunchTemplateData as { UserData: { 'Fn::Base64': { 'Fn::Sub': string } } }).UserData;
  return data['Fn::Base64']['Fn::Sub'];
}

describe('cloudformation: frontend instances', () => {
  it('when an instance launches, then IMDSv2 is required, there is no key pair and the root volume is encrypted gp3', () => {
    const data = props(frontend, 'LaunchTemplate', 'AWS::EC2::LaunchTemplate').LaunchTemplateData as Record<string, unknown>;
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpEndpoint: 'enabled' });
    expect(data.KeyName).toBeUndefined();
    expect(data.ImageId).toEqual(ref('LatestAmiId'));
    expect(frontend.Parameters.LatestAmiId).toMatchObject({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    });
    expect(frontend.Parameters.InstanceType?.Default).toBe('t4g.small');
    expect(data.IamInstanceProfile).toEqual({ Arn: getAtt('InstanceProfile', 'Arn') });
  });

  it('when the instance role is read, then it has Session Manager, this release only, the key parameter only, its log group\'s streams only and its own event queues only', () => {
    expect(props(frontend, 'InstanceRole').ManagedPolicyArns).toBeUndefined();
    expect(roleGrants(frontend, 'InstanceRole')).toEqual([
      {
        actions: ['ssm:UpdateInstanceInformation', 'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
        resource: '*',
      },
      { actions: ['s3:GetObject'], resource: { 'Fn::Sub': '${ArtifactBucket.Arn}/${ArtifactKey}' } },
      { actions: ['ssm:GetParameter'], resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ApiKeyParameterName}' } },
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${InstanceLogGroup}' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${InstanceLogGroup}:*' },
        ],
      },
      ...EVENT_GRANTS,
    ]);
  });

  it('when a web process subscribes its queue to order-events, then the role lets it subscribe only a queue of its prefix, by SQS, to that topic, and list no more than queue URLs', () => {
    const statements = policyStatements(frontend).filter(({ where, statement }) => where === 'InstanceRole.Policies.order-web' && actionsOf(statement).some((action) => /^(sqs|sns):/.test(action)));
    expect(statements.map(({ statement }) => ({ Sid: statement.Sid, Condition: statement.Condition }))).toEqual([
      { Sid: 'OwnEventQueues', Condition: undefined },
      { Sid: 'FindEventQueues', Condition: undefined },
      { Sid: 'SubscribeOwnQueues', Condition: { StringEquals: { 'sns:Protocol': 'sqs' }, StringLike: { 'sns:Endpoint': EVENT_QUEUE_ARNS } } },
      { Sid: 'FindSubscriptions', Condition: undefined },
      { Sid: 'UnsubscribeFromTopic', Condition: undefined },
    ]);
    // The queue ARNs the role may touch are the prefix the app is given, in any stack's prefix.
    const arns = (prefix: string) => String(resolveWith(frontend, EVENT_QUEUE_ARNS, { NamePrefix: prefix }));
    expect(arns('dev-')).toBe(`arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${String(resolveWith(frontend, frontend.Outputs.EventQueuePrefix!.Value, { NamePrefix: 'dev-' }))}*`);
    expect(resolveWith(frontend, frontend.Outputs.EventQueuePrefix!.Value, { NamePrefix: 'dev-' })).toBe('dev-order-web-events-');
    // ListQueues is the one grant on "*", alone in its statement, and the policy test names it.
    const starred = cloudFormationModel(frontend).statements.filter((statement) => statement.where === 'InstanceRole.Policies.order-web' && statement.resources.includes('*'));
    expect(starred.map((statement) => statement.actions)).toEqual([['sqs:ListQueues']]);
    expect(WILDCARD_RESOURCES_ALLOWED.filter((allowed) => allowed.applies(starred[0]!)).map((allowed) => allowed.reason)).toEqual([expect.stringMatching(/^sqs:ListQueues .*no resource type/)]);
    // The topic is the parameter, an SNS topic ARN by its pattern.
    const topic = new RegExp(frontend.Parameters.OrderEventsTopicArn!.AllowedPattern!);
    expect(frontend.Parameters.OrderEventsTopicArn!.Default).toBeUndefined();
    expect(['arn:aws:sns:us-east-1:123456789012:order-events', 'arn:aws-cn:sns:cn-north-1:123456789012:dev-order-events'].filter((arn) => !topic.test(arn))).toEqual([]);
    expect(['', 'arn:aws:sqs:us-east-1:123456789012:order-events', 'arn:aws:sns:us-east-1:123456789012:order events', "arn:aws:sns:us-east-1:123456789012:x'"].filter((arn) => topic.test(arn))).toEqual([]);
  });

  it('when the user data runs, then it installs Node 22, unpacks the release and starts pm2-runtime under systemd as its own user', () => {
    const script = userData();
    expect(script).toMatch(/^#!\/bin\/bash\nset -euo pipefail\n/);
    expect(script).toMatch(/dnf install -y nodejs22\b/);
    expect(script).toContain("aws s3 cp 's3://${ArtifactBucket}/${ArtifactKey}'");
    expect(script).toContain('tar -xzf /tmp/order-web.tar.gz -C /opt/order-web');
    expect(script).toMatch(/^WorkingDirectory=\/opt\/order-web$/m);
    expect(script).toMatch(/^alternatives --set node \/usr\/bin\/node-22\b/m);
    expect(script).toMatch(/^ExecStart=\/usr\/bin\/node-22 \/opt\/order-web\/node_modules\/\.bin\/pm2-runtime start ecosystem\.config\.cjs$/m);
    expect(script).toMatch(/^User=order-web$/m);
    expect(script).toContain('systemctl enable --now order-web.service');
    expect(script).toContain("curl -fsS -o /dev/null 'http://127.0.0.1:${AppPort}${HealthCheckPath}'");
  });

  it("when the web tier reads the env file the user data writes, then loadConfig accepts it and it names the key's parameter, not the key", () => {
    const body = /cat > \/etc\/order-web\.env <<'ENV'\n([\s\S]*?)\nENV\n/.exec(userData())?.[1];
    expect(body).toBeDefined();
    const values: Record<string, string> = {
      'AWS::Region': 'us-east-1',
      ApiBaseUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/v1',
      OrderEventsTopicArn: 'arn:aws:sns:us-east-1:123456789012:order-events',
      CognitoUserPoolId: 'us-east-1_AbCdEf123',
      CognitoClientId: 'abcdef0123456789',
      CognitoIssuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123',
    };
    // Each value the stack is given must pass the parameter's own pattern.
    for (const name of ['ApiBaseUrl', 'CognitoUserPoolId', 'CognitoClientId', 'CognitoIssuer', 'OrderEventsTopicArn']) expect({ name, valid: new RegExp(frontend.Parameters[name]!.AllowedPattern!).test(values[name]!) }).toEqual({ name, valid: true });
    const env = Object.fromEntries(
      body!.split('\n').map((line) => {
        const [key, ...rest] = line.split('=');
        const value = rest.join('=').replace(/\$\{([A-Za-z:]+)\}/g, (_match, name: string) => values[name] ?? String(frontend.Parameters[name]?.Default));
        return [key!, value];
      }),
    );
    expect(Object.keys(env).sort()).toEqual(['API_BASE_URL', 'API_KEY_PARAMETER', 'AWS_REGION', 'COGNITO_CLIENT_ID', 'COGNITO_ISSUER', 'COGNITO_USER_POOL_ID', 'EVENT_QUEUE_PREFIX', 'HOST', 'NODE_ENV', 'ORDER_EVENTS_TOPIC_ARN', 'PORT', 'TRUST_PROXY_HOPS']);
    expect(env).toMatchObject({ COGNITO_USER_POOL_ID: values.CognitoUserPoolId, COGNITO_CLIENT_ID: values.CognitoClientId, COGNITO_ISSUER: values.CognitoIssuer });
    // The topic the role may subscribe to, and the queue prefix the role and the output name (the prefix left at its default, empty).
    expect(env).toMatchObject({ ORDER_EVENTS_TOPIC_ARN: values.OrderEventsTopicArn, EVENT_QUEUE_PREFIX: resolveWith(frontend, frontend.Outputs.EventQueuePrefix!.Value) });
    expect(env.EVENT_QUEUE_PREFIX).toBe('order-web-events-');
    expect(env).toMatchObject({ PORT: String(settings.web.appPort), HOST: '0.0.0.0', TRUST_PROXY_HOPS: '1', NODE_ENV: 'production' });
    const config = loadWebConfig(env);
    expect(config).toMatchObject({ API_KEY_PARAMETER: '/order-pipeline/api-key', PORT: settings.web.appPort, ORDER_EVENTS_TOPIC_ARN: values.OrderEventsTopicArn, EVENT_QUEUE_PREFIX: 'order-web-events-' });
    expect(config.API_KEY).toBeUndefined();
  });

  it('when the Auto Scaling group is read, then it uses ELB health checks, rolls updates and runs no instance until a release is given', () => {
    const group = resource(frontend, 'WebServerGroup', 'AWS::AutoScaling::AutoScalingGroup');
    expect(group.Properties).toMatchObject({
      HealthCheckType: 'ELB',
      TargetGroupARNs: [ref('TargetGroup')],
      LaunchTemplate: { LaunchTemplateId: ref('LaunchTemplate'), Version: getAtt('LaunchTemplate', 'LatestVersionNumber') },
      MinSize: { 'Fn::If': ['HasArtifact', ref('MinCapacity'), '0'] },
      DesiredCapacity: { 'Fn::If': ['HasArtifact', ref('DesiredCapacity'), '0'] },
      MaxSize: ref('MaxCapacity'),
    });
    expect(frontend.Conditions?.HasArtifact).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [ref('ArtifactKey'), ''] }] });
    expect(frontend.Parameters.ArtifactKey?.Default).toBe('');
    expect(group.UpdatePolicy?.AutoScalingRollingUpdate).toMatchObject({ MaxBatchSize: 1, WaitOnResourceSignals: true });
    const [policy] = resourcesOfType(frontend, 'AWS::AutoScaling::ScalingPolicy');
    expect(policy?.[1].Properties).toMatchObject({ AutoScalingGroupName: ref('WebServerGroup'), PolicyType: 'TargetTrackingScaling' });
    for (const name of ['MinCapacity', 'DesiredCapacity', 'MaxCapacity']) expect(frontend.Parameters[name]).toMatchObject({ Type: 'Number', MinValue: 1 });
  });

  it('when an existing VPC is not given, then the template creates one with public subnets in two AZs', () => {
    expect(resource(frontend, 'Vpc').Condition).toBe('CreateVpc');
    const zones = ['PublicSubnetA', 'PublicSubnetB'].map((id) => {
      expect(resource(frontend, id).Condition).toBe('CreateVpc');
      return props(frontend, id).AvailabilityZone;
    });
    expect(zones).toEqual([{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] }]);
    expect(frontend.Conditions?.CreateVpc).toEqual({ 'Fn::Equals': [ref('VpcId'), ''] });
  });
});

describe('cloudformation: frontend load balancer and network', () => {
  /** Every ingress rule, inline or standalone, with the group it opens. */
  function ingressRules(): { group: string; rule: Record<string, unknown> }[] {
    const rules: { group: string; rule: Record<string, unknown> }[] = [];
    for (const [id, group] of resourcesOfType(frontend, 'AWS::EC2::SecurityGroup')) {
      for (const rule of (group.Properties?.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? []) {
        const ifRule = rule['Fn::If'] as [string, Record<string, unknown>, unknown] | undefined;
        rules.push({ group: id, rule: ifRule ? ifRule[1] : rule });
      }
    }
    for (const [, ingress] of resourcesOfType(frontend, 'AWS::EC2::SecurityGroupIngress')) {
      rules.push({ group: (ingress.Properties!.GroupId as { Ref: string }).Ref, rule: ingress.Properties! });
    }
    return rules;
  }

  it('when the security groups are read, then there is no SSH and the world reaches only the load balancer on 80 and 443', () => {
    const rules = ingressRules();
    expect(rules.length).toBeGreaterThan(0);
    for (const { group, rule } of rules) {
      const from = Number(resolveDefault(frontend, rule.FromPort));
      const to = Number(resolveDefault(frontend, rule.ToPort));
      expect({ group, ssh: from <= 22 && 22 <= to }).toEqual({ group, ssh: false });
      const cidr = resolveDefault(frontend, rule.CidrIp);
      if (cidr === '0.0.0.0/0' || rule.CidrIpv6 === '::/0') expect({ group, port: from === to && [80, 443].includes(from) }).toEqual({ group: 'LoadBalancerSecurityGroup', port: true });
    }
    expect(rules.filter(({ group }) => group === 'InstanceSecurityGroup').map(({ rule }) => rule)).toEqual([
      expect.objectContaining({ FromPort: ref('AppPort'), ToPort: ref('AppPort'), SourceSecurityGroupId: ref('LoadBalancerSecurityGroup') }),
    ]);
  });

  it('when the load balancer is read, then it is public, drops invalid headers and sends the app port /healthz checks', () => {
    const alb = props(frontend, 'LoadBalancer', 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(alb).toMatchObject({ Scheme: 'internet-facing', Type: 'application' });
    expect(alb.LoadBalancerAttributes).toContainEqual({ Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' });
    const targets = props(frontend, 'TargetGroup', 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(resolveDefault(frontend, targets.Port)).toBe(settings.web.appPort);
    expect(resolveDefault(frontend, targets.HealthCheckPath)).toBe(settings.web.healthCheckPath);
  });

  it('when a certificate is given, then HTTPS uses TLS 1.2 or later and HTTP redirects to it; plain HTTP forwards to the app only with AllowInsecureHttp, and then an output warns', () => {
    const http = resource(frontend, 'HttpListener');
    expect(http.Condition).toBe('HasCertificate');
    expect(http.Properties!.DefaultActions).toEqual([expect.objectContaining({ Type: 'redirect', RedirectConfig: expect.objectContaining({ Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' }) as unknown })]);
    const https = resource(frontend, 'HttpsListener');
    expect(https.Condition).toBe('HasCertificate');
    expect(https.Properties).toMatchObject({ Port: 443, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', Certificates: [{ CertificateArn: ref('CertificateArn') }] });
    const plain = resource(frontend, 'PlainHttpListener');
    expect(plain.Properties).toMatchObject({ Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: ref('TargetGroup') }] });
    expect(frontend.Outputs.InsecureHttpWarning).toMatchObject({ Condition: plain.Condition, Value: expect.stringMatching(/^WARNING: INSECURE\..*passwords and session cookies cross the network in clear text/) as unknown });

    // Which port 80 listener a stack gets: by the parameters as deployed.
    const certificate = 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000';
    const http80 = (parameters: Record<string, string>) => ['HttpListener', 'PlainHttpListener'].filter((id) => resolveWith(frontend, { Condition: resource(frontend, id).Condition }, parameters));
    expect(http80({ CertificateArn: certificate })).toEqual(['HttpListener']);
    expect(http80({ CertificateArn: certificate, AllowInsecureHttp: 'true' })).toEqual(['HttpListener']);
    expect(http80({ AllowInsecureHttp: 'true' })).toEqual(['PlainHttpListener']);
  });

  it('when neither CertificateArn nor AllowInsecureHttp is given, then the Rules section refuses the stack, naming the opt-in', () => {
    const rule = frontend.Rules?.HttpsUnlessInsecureHttpAllowed as { RuleCondition?: unknown; Assertions: { Assert: unknown; AssertDescription: string }[] };
    // Asserted for every stack: no RuleCondition.
    expect(rule.RuleCondition).toBeUndefined();
    const [assertion, ...others] = rule.Assertions;
    expect(others).toEqual([]);
    expect(assertion!.AssertDescription).toMatch(/AllowInsecureHttp/);
    const holds = (parameters: Record<string, string>) => resolveWith(frontend, assertion!.Assert, parameters);
    expect(holds({})).toBe(false);
    expect(holds({ CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000' })).toBe(true);
    expect(holds({ AllowInsecureHttp: 'true' })).toBe(true);
  });

  it('when the access log bucket policy is deployed in us-east-1 or in eu-central-2 (opened after August 2022, no ELB account), then the region\'s ELB account or the log delivery service principal writes the logs', () => {
    const writer = (region: string) => {
      const policy = resolveWith(frontend, props(frontend, 'AccessLogBucketPolicy').PolicyDocument, { 'AWS::Region': region }) as { Statement: { Sid: string; Principal: unknown }[] };
      return policy.Statement.find((statement) => statement.Sid === 'LoadBalancerWritesAccessLogs')?.Principal;
    };
    expect(writer('us-east-1')).toEqual({ AWS: 'arn:${AWS::Partition}:iam::127311923021:root' });
    expect(writer('eu-west-1')).toEqual({ AWS: 'arn:${AWS::Partition}:iam::156460612806:root' });
    for (const region of ['eu-central-2', 'il-central-1', 'ap-southeast-5']) expect({ region, writer: writer(region) }).toEqual({ region, writer: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' } });
  });

  it('when the artifact bucket is read, then it is versioned, encrypted, private and owner-enforced, over TLS only', () => {
    expect(props(frontend, 'ArtifactBucket', 'AWS::S3::Bucket')).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const [tls] = policyStatements(frontend).filter(({ where }) => where === 'ArtifactBucketPolicy');
    expect(tls?.statement).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });
});

describe('cloudformation: the small-shop setting (a NAT instance, one web server, no detailed monitoring)', () => {
  /** The template's resources a stack with these parameters has (their Conditions decided). */
  const deployedIds = (template: CfnTemplate, parameters: Record<string, string>) =>
    Object.entries(template.Resources)
      .filter(([, r]) => !r.Condition || resolveWith(template, { Condition: r.Condition }, parameters))
      .map(([id]) => id);
  const natIds = ['NatAddressA', 'NatGatewayA', 'NatAddressB', 'NatGatewayB', 'NatSecurityGroup', 'NatHost'];
  /** A parameters file in the form create-stack's --parameters (and deploy's, in CLI v2) reads: [{ParameterKey, ParameterValue}]. */
  const parametersFile = (name: string): Record<string, string> => {
    const entries = JSON.parse(readFileSync(join(root, 'cloudformation', name), 'utf8')) as { ParameterKey: string; ParameterValue: string }[];
    for (const entry of entries) expect(Object.keys(entry).sort()).toEqual(['ParameterKey', 'ParameterValue']);
    return Object.fromEntries(entries.map(({ ParameterKey, ParameterValue }) => [ParameterKey, ParameterValue]));
  };
  const smallShop = parametersFile('small-shop-frontend.json');

  it('when NatInstance is left at its default, then the NAT gateways are made as before and there is no NAT instance', () => {
    expect(frontend.Parameters.NatInstance).toMatchObject({ Type: 'String', Default: 'false', AllowedValues: ['true', 'false'] });
    expect(frontend.Parameters.NatInstanceType).toMatchObject({ Type: 'String', Default: 't4g.nano' });
    expect(natIds.filter((id) => deployedIds(frontend, {}).includes(id))).toEqual(['NatAddressA', 'NatGatewayA', 'NatAddressB', 'NatGatewayB']);
    expect(natIds.filter((id) => deployedIds(frontend, { NatGatewayPerZone: 'false' }).includes(id))).toEqual(['NatAddressA', 'NatGatewayA']);
  });

  it.each([
    ['per zone', 'true'],
    ['one zone', 'false'],
  ])('when NatInstance is true (NatGatewayPerZone %s), then it wins: no NAT gateway or address, one NAT instance with its group', (_case, perZone) => {
    expect(natIds.filter((id) => deployedIds(frontend, { NatInstance: 'true', NatGatewayPerZone: perZone }).includes(id))).toEqual(['NatSecurityGroup', 'NatHost']);
    // Only in a VPC the stack makes: an existing VPC keeps its own way out.
    const existing = { VpcId: 'vpc-0123456789abcdef0', PublicSubnetIds: 'subnet-01234567,subnet-01234568', PrivateSubnetIds: 'subnet-01234569,subnet-0123456a' };
    expect(natIds.filter((id) => deployedIds(frontend, { ...existing, NatInstance: 'true' }).includes(id))).toEqual([]);
  });

  it('when the NAT instance is made, then it is AL2023 arm64 from the SSM parameter, in the first public subnet with a public address, forwarding, IMDSv2 only, on an encrypted gp3 volume, without key pair or role', () => {
    const nat = resource(frontend, 'NatHost', 'AWS::EC2::Instance');
    expect(nat.Condition).toBe('UseNatInstance');
    expect(frontend.Conditions?.UseNatInstance).toEqual({ 'Fn::And': [{ Condition: 'CreateVpc' }, { 'Fn::Equals': [ref('NatInstance'), 'true'] }] });
    const p = nat.Properties!;
    expect(p).toMatchObject({
      ImageId: ref('LatestAmiId'),
      InstanceType: ref('NatInstanceType'),
      SourceDestCheck: false,
      NetworkInterfaces: [{ DeviceIndex: '0', SubnetId: ref('PublicSubnetA'), GroupSet: [ref('NatSecurityGroup')], AssociatePublicIpAddress: true, DeleteOnTermination: true }],
      MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
    });
    for (const absent of ['KeyName', 'IamInstanceProfile', 'SecurityGroupIds', 'SubnetId']) expect({ absent, value: p[absent] }).toEqual({ absent, value: undefined });
    expect(subWithDefaults(frontend, (p.Tags as { Key: string; Value: unknown }[]).find((tag) => tag.Key === 'Name')!.Value)).toBe('order-web-nat');
    expect(resolveWith(frontend, p.Monitoring, { DetailedMonitoring: 'false' })).toBe(false);
    // Created only once it forwards (its user data signals), so the routes to it, and the web instances, wait for that.
    expect(nat.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT10M' } });
    // Its user data needs the Internet: the public subnet's route there exists before it boots.
    expect(nat.DependsOn).toEqual(['PublicDefaultRoute', 'PublicSubnetARouteTableAssociation']);
    const t4g = new RegExp(frontend.Parameters.NatInstanceType!.AllowedPattern!);
    expect(['t4g.nano', 't4g.micro', 'c7g.medium'].filter((type) => !t4g.test(type))).toEqual([]);
    expect(['t3.nano', 't3a.micro', 'm5.large', ''].filter((type) => t4g.test(type))).toEqual([]);
  });

  it('when the NAT instance boots, then it turns on forwarding and masquerades the VPC\'s traffic, both kept across reboots, and signals only once both hold', () => {
    const script = (props(frontend, 'NatHost').UserData as { 'Fn::Base64': { 'Fn::Sub': string } })['Fn::Base64']['Fn::Sub'];
    expect(script).toMatch(/^#!\/bin\/bash\nset -euo pipefail\n/);
    expect(script).toMatch(/^dnf install -y nftables aws-cfn-bootstrap$/m);
    // A sysctl.d file is read at every boot; nftables' service loads /etc/sysconfig/nftables.conf at every boot.
    expect(/<<'SYSCTL'\n([\s\S]*?)\nSYSCTL\n/.exec(script)?.[1]?.split('\n')).toEqual(['net.ipv4.ip_forward = 1', 'net.ipv4.conf.all.send_redirects = 0', 'net.ipv4.conf.default.send_redirects = 0']);
    expect(script).toMatch(/^cat > \/etc\/sysctl\.d\/90-order-web-nat\.conf <<'SYSCTL'$/m);
    expect(script).toMatch(/^cat > \/etc\/sysconfig\/nftables\.conf <<NFT$/m);
    expect(script).toMatch(/^\s+oifname "\$interface" ip saddr \$\{VpcCidr\} masquerade$/m);
    expect(script).toMatch(/^systemctl enable nftables\.service$/m);
    expect(script).toContain("--resource NatHost --region '${AWS::Region}'");
    // The signal comes after the checks that forwarding and the masquerade are in place.
    expect(script.indexOf('signal 0')).toBeGreaterThan(script.indexOf('nft list table ip order_web_nat | grep -q masquerade'));
    expect(script.indexOf('signal 0')).toBeGreaterThan(script.indexOf('test "$(cat /proc/sys/net/ipv4/ip_forward)" = 1'));
  });

  it('when the NAT instance\'s group is read, then it lets in HTTP and HTTPS from the web instances\' group only, and lets out HTTP and HTTPS only', () => {
    const group = props(frontend, 'NatSecurityGroup', 'AWS::EC2::SecurityGroup');
    expect(resource(frontend, 'NatSecurityGroup').Condition).toBe('UseNatInstance');
    const rule = (r: Record<string, unknown>) => `${String(r.IpProtocol)} ${String(r.FromPort)}-${String(r.ToPort)} ${r.SourceSecurityGroupId ? `from ${JSON.stringify(r.SourceSecurityGroupId)}` : `to ${String(r.CidrIp)}`}`;
    expect((group.SecurityGroupIngress as Record<string, unknown>[]).map(rule).sort()).toEqual(['tcp 443-443 from {"Ref":"InstanceSecurityGroup"}', 'tcp 80-80 from {"Ref":"InstanceSecurityGroup"}']);
    expect((group.SecurityGroupEgress as Record<string, unknown>[]).map(rule).sort()).toEqual(['tcp 443-443 to 0.0.0.0/0', 'tcp 80-80 to 0.0.0.0/0']);
    expect(resourcesOfType(frontend, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => JSON.stringify(r.Properties?.GroupId) === '{"Ref":"NatSecurityGroup"}')).toEqual([]);
  });

  it.each([
    ['the default', {}, { A: { NatGatewayId: ref('NatGatewayA') }, B: { NatGatewayId: ref('NatGatewayB') } }],
    ['one NAT gateway', { NatGatewayPerZone: 'false' }, { A: { NatGatewayId: ref('NatGatewayA') }, B: { NatGatewayId: ref('NatGatewayA') } }],
    ['the NAT instance', { NatInstance: 'true' }, { A: { InstanceId: ref('NatHost') }, B: { InstanceId: ref('NatHost') } }],
    ['the NAT instance, whatever NatGatewayPerZone says', { NatInstance: 'true', NatGatewayPerZone: 'false' }, { A: { InstanceId: ref('NatHost') }, B: { InstanceId: ref('NatHost') } }],
  ] as const)('when deployed with %s, then both private subnets\' default route goes to it and to nothing else', (_case, parameters, expected) => {
    const target = (id: string) => {
      const { RouteTableId, DestinationCidrBlock, ...rest } = resolveWith(frontend, props(frontend, id, 'AWS::EC2::Route'), parameters) as Record<string, unknown>;
      expect({ RouteTableId, DestinationCidrBlock }).toEqual({ RouteTableId: ref(id.replace('PrivateDefaultRoute', 'PrivateRouteTable')), DestinationCidrBlock: '0.0.0.0/0' });
      return rest;
    };
    expect({ A: target('PrivateDefaultRouteA'), B: target('PrivateDefaultRouteB') }).toEqual(expected);
  });

  it('when VpcInterfaceEndpoints is true, then SQS and SNS have interface endpoints in the private subnets too, with the other services\'', () => {
    const endpoints = resourcesOfType(frontend, 'AWS::EC2::VPCEndpoint')
      .filter(([, endpoint]) => endpoint.Properties?.VpcEndpointType === 'Interface')
      .map(([id, endpoint]) => {
        expect({ id, condition: endpoint.Condition }).toEqual({ id, condition: 'CreateInterfaceEndpoints' });
        expect(endpoint.Properties).toMatchObject({ PrivateDnsEnabled: true, SubnetIds: [ref('PrivateSubnetA'), ref('PrivateSubnetB')], SecurityGroupIds: [ref('EndpointSecurityGroup')] });
        return subWithDefaults(frontend, endpoint.Properties!.ServiceName).replace('com.amazonaws.${AWS::Region}.', '');
      });
    expect(endpoints.sort()).toEqual(['ec2messages', 'logs', 'monitoring', 'sns', 'sqs', 'ssm', 'ssmmessages']);
  });

  it('when DetailedMonitoring is read, then the web servers\' launch template monitors every minute by default and not with \'false\'', () => {
    expect(frontend.Parameters.DetailedMonitoring).toMatchObject({ Type: 'String', Default: 'true', AllowedValues: ['true', 'false'] });
    const monitoring = (props(frontend, 'LaunchTemplate').LaunchTemplateData as { Monitoring: unknown }).Monitoring;
    expect([resolveWith(frontend, monitoring), resolveWith(frontend, monitoring, { DetailedMonitoring: 'false' })]).toEqual([{ Enabled: true }, { Enabled: false }]);
  });

  it('when the small-shop parameters are read, then they are the template\'s, each within its constraints: a NAT instance, one t4g.micro (up to two), no detailed monitoring, no WAF', () => {
    expect(smallShop).toEqual({
      NatInstance: 'true',
      NatInstanceType: 't4g.nano',
      VpcInterfaceEndpoints: 'false',
      InstanceType: 't4g.micro',
      MinCapacity: '1',
      DesiredCapacity: '1',
      MaxCapacity: '2',
      DetailedMonitoring: 'false',
      WafEnabled: 'false',
    });
    const backendSmallShop = parametersFile('small-shop-backend.json');
    // The API stage's WAF off: the API answers only calls with the API key, throttled by its usage plan, and the site's WAF stays.
    expect(backendSmallShop).toEqual({ WafEnabled: 'false' });
    for (const [template, values] of [[frontend, smallShop], [backend, backendSmallShop]] as const) {
      for (const [name, value] of Object.entries(values)) {
        const parameter = template.Parameters[name];
        expect({ name, declared: parameter !== undefined }).toEqual({ name, declared: true });
        if (parameter!.AllowedValues) expect({ name, allowed: parameter!.AllowedValues.map(String).includes(value) }).toEqual({ name, allowed: true });
        if (parameter!.AllowedPattern) expect({ name, matches: new RegExp(parameter!.AllowedPattern).test(value) }).toEqual({ name, matches: true });
        if (parameter!.Type === 'Number') expect({ name, inRange: Number(value) >= parameter!.MinValue! && Number(value) <= parameter!.MaxValue! }).toEqual({ name, inRange: true });
      }
    }
    // Room for the rolling update to start the new instance before it stops the old one.
    expect(Number(smallShop.MinCapacity)).toBeLessThanOrEqual(Number(smallShop.DesiredCapacity));
    expect(Number(smallShop.DesiredCapacity)).toBeLessThan(Number(smallShop.MaxCapacity));
    expect(deployedIds(frontend, smallShop).filter((id) => ['NatHost', 'NatGatewayA', 'WebAcl', 'WebAclAssociation', 'SqsInterfaceEndpoint'].includes(id)).sort()).toEqual(['NatHost']);
  });

  cfnLint.it('when cfn-lint checks frontend.yaml deployed with the small-shop parameters, and with NatInstance and the interface endpoints together, then it reports no error and no warning', () => {
    // The parameters without a default, in their real shapes.
    const required = {
      ApiBaseUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/v1',
      OpsAlarmsTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops-alarms',
      OrderEventsTopicArn: 'arn:aws:sns:us-east-1:123456789012:order-events',
      CognitoUserPoolId: 'us-east-1_AbCdEf123',
      CognitoClientId: 'abcdef0123456789',
      CognitoIssuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123',
    };
    for (const parameters of [smallShop, { NatInstance: 'true', VpcInterfaceEndpoints: 'true', NatGatewayPerZone: 'false' }]) {
      const { exitCode, output } = runCfnLint(['frontend'], { ...required, ...parameters });
      expect({ parameters, output }).toEqual({ parameters, output: '' });
      expect(exitCode).toBe(0);
    }
    // The same run without the topic refuses the stack, so the parameters did reach cfn-lint (and the topic has no default).
    const { OrderEventsTopicArn: _topic, ...withoutTopic } = required;
    expect(runCfnLint(['frontend'], { ...withoutTopic, ...smallShop }).output).toMatch(/E2900:'OrderEventsTopicArn' is a required property/);
  }, 120_000);
});

describe('cloudformation: packaging', () => {
  built.it('when npm run build has run, then every Code path of the backend names a zip that exists', () => {
    for (const name of functionNames) {
      expect({ name, built: existsSync(resolve(dirname(templatePath('backend')), props(backend, functionId(name)).Code as string)) }).toEqual({ name, built: true });
    }
  });
});

describe('cloudformation: observed (the instances\' logs, the alarms on what had none, WAF\'s logs)', () => {
  const withPrefix = { NamePrefix: 'dev-' };
  /** The CloudWatch agent's config as the user data writes it, and the unit's PM2_HOME. */
  const agent = () => {
    const script = userData().replace(/^ {0,12}/gm, '');
    const config = /<<'AGENT'\n([\s\S]*?)\nAGENT\n/.exec(script)?.[1];
    if (config === undefined) throw new Error('no CloudWatch agent config in the user data');
    const pm2Home = /^Environment=PM2_HOME=(.+)$/m.exec(script)?.[1];
    return { script, pm2Home, config: JSON.parse(config) as { agent?: Record<string, unknown>; logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string; log_stream_name: string }[] } } } } };
  };

  it('when an instance boots, then it installs the CloudWatch agent from the distribution and ships the app\'s out and error files and pm2\'s log to the stack\'s log group, a stream per instance', () => {
    const { script, pm2Home, config } = agent();
    expect(script).toMatch(/^dnf install -y amazon-cloudwatch-agent\b/m);
    expect(script).toMatch(/^\/opt\/aws\/amazon-cloudwatch-agent\/bin\/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:\/opt\/aws\/amazon-cloudwatch-agent\/etc\/order-web\.json$/m);
    // Started before the app, so the agent reads each file from its first line.
    expect(script.indexOf('amazon-cloudwatch-agent-ctl')).toBeLessThan(script.indexOf('systemctl enable --now order-web.service'));
    expect(pm2Home).toBeDefined();
    expect(config.logs.logs_collected.files.collect_list.map(({ file_path, log_group_name, log_stream_name }) => [file_path, log_group_name, log_stream_name])).toEqual([
      [`${pm2Home}/logs/order-web-out.log`, '${InstanceLogGroup}', '{instance_id}/app'],
      [`${pm2Home}/logs/order-web-error.log`, '${InstanceLogGroup}', '{instance_id}/app-errors'],
      ['/var/lib/order-web/pm2-runtime.log', '${InstanceLogGroup}', '{instance_id}/pm2'],
    ]);
    // pm2 names its files so only with merge_logs; with a file a worker, the agent would follow only the newest.
    expect(readFileSync(join(root, 'frontend', 'ecosystem.config.cjs'), 'utf8')).toMatch(/^\s*merge_logs: true,$/m);
    const group = props(frontend, 'InstanceLogGroup', 'AWS::Logs::LogGroup');
    expect(resolveWith(frontend, group.LogGroupName, withPrefix)).toBe('/ec2/dev-order-web');
    expect(group.RetentionInDays).toEqual(ref('CloudWatchLogRetentionDays'));
    expect(frontend.Parameters.CloudWatchLogRetentionDays).toMatchObject({ Default: 30, AllowedValues: expect.not.arrayContaining([0]) as unknown });
  });

  it('when the instance role is read, then it may create, describe and write streams in the instances\' log group and nothing else of CloudWatch Logs', () => {
    const logs = policyStatements(frontend).filter(({ statement }) => actionsOf(statement).some((action) => action.startsWith('logs:')));
    expect(logs.map(({ where, statement }) => ({ where, effect: statement.Effect, actions: actionsOf(statement).sort(), resources: statement.Resource }))).toEqual([
      {
        where: expect.stringMatching(/^InstanceRole/) as unknown,
        effect: 'Allow',
        actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${InstanceLogGroup}' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${InstanceLogGroup}:*' },
        ],
      },
    ]);
  });

  it.each([
    ['backend', backend, 'ApiWebAcl', 'ApiWafLogGroup', 'ApiWebAclLogging', 'aws-waf-logs-dev-orders-api', 'LogRetentionDays'],
    ['frontend', frontend, 'WebAcl', 'WafLogGroup', 'WebAclLogging', 'aws-waf-logs-dev-order-web', 'CloudWatchLogRetentionDays'],
  ] as const)('when WAF is on in %s.yaml, then its web ACL logs to a kept aws-waf-logs- group of the stack, without cookies, Authorization or x-api-key', (_name, template, acl, group, logging, groupName, retention) => {
    expect([resource(template, group).Condition, resource(template, logging).Condition, resource(template, acl).Condition]).toEqual(['UseWaf', 'UseWaf', 'UseWaf']);
    const logGroup = props(template, group, 'AWS::Logs::LogGroup');
    expect(resolveWith(template, logGroup.LogGroupName, withPrefix)).toBe(groupName);
    expect(logGroup.RetentionInDays).toEqual(ref(retention));
    const configuration = props(template, logging, 'AWS::WAFv2::LoggingConfiguration');
    expect(configuration.ResourceArn).toEqual(getAtt(acl, 'Arn'));
    // The group's ARN without the ":*" that its Arn attribute ends with: WAF refuses that form.
    expect(configuration.LogDestinationConfigs).toEqual([{ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${group}}` }]);
    expect((configuration.RedactedFields as { SingleHeader: { Name: string } }[]).map((field) => field.SingleHeader.Name).sort()).toEqual(['authorization', 'cookie', 'x-api-key']);
  });

  const newAlarms: [TemplateName, CfnTemplate, string, string][] = [
    ['backend', backend, 'OrdersTableThrottlesAlarm', 'dev-orders-table-throttles'],
    ['backend', backend, 'CartsTableThrottlesAlarm', 'dev-carts-table-throttles'],
    ['backend', backend, 'ProductsTableThrottlesAlarm', 'dev-products-table-throttles'],
    ['backend', backend, 'SesBounceRateAlarm', 'dev-ses-bounce-rate'],
    ['backend', backend, 'SesComplaintRateAlarm', 'dev-ses-complaint-rate'],
    ['backend', backend, 'KitchenStoppedAlarm', 'dev-advance-orders-stopped'],
    ['backend', backend, 'CustomerNotificationsAgeAlarm', 'dev-customer-notifications-oldest-message-age'],
    ['frontend', frontend, 'NoHealthyHostsAlarm', 'dev-order-web-no-healthy-hosts'],
  ];

  it.each(newAlarms)('when %s.yaml\'s %s is read, then it carries the prefix, notifies ops-alarms both ways and says why its threshold is what it is', (name, template, id, alarmName) => {
    const alarm = props(template, id, 'AWS::CloudWatch::Alarm');
    expect(resolveWith(template, alarm.AlarmName, withPrefix)).toBe(alarmName);
    const topic = ref(name === 'backend' ? 'OpsAlarmsTopic' : 'OpsAlarmsTopicArn');
    expect({ AlarmActions: alarm.AlarmActions, OKActions: alarm.OKActions }).toEqual({ AlarmActions: [topic], OKActions: [topic] });
    expect(String(resolveWith(template, alarm.AlarmDescription))).toMatch(/Threshold/);
  });

  it('when the new alarms\' metrics are read, then they watch the tables\' throttles, SES\'s rates below its review thresholds, the kitchen\'s runs, the customer mail\'s age and the healthy hosts', () => {
    for (const [table, id] of [['OrdersTable', 'OrdersTableThrottlesAlarm'], ['CartsTable', 'CartsTableThrottlesAlarm'], ['ProductsTable', 'ProductsTableThrottlesAlarm']] as const) {
      const alarm = props(backend, id);
      const stats = (alarm.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] }; Stat: string } }[]).filter((metric) => metric.MetricStat);
      expect(stats.map(({ MetricStat }) => [MetricStat!.Metric.MetricName, MetricStat!.Metric.Dimensions, MetricStat!.Stat])).toEqual([
        ['ReadThrottleEvents', [{ Name: 'TableName', Value: ref(table) }], 'Sum'],
        ['WriteThrottleEvents', [{ Name: 'TableName', Value: ref(table) }], 'Sum'],
      ]);
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
    // Below what makes SES review the account: 5% bounces, 0.1% complaints.
    expect(props(backend, 'SesBounceRateAlarm')).toMatchObject({ Namespace: 'AWS/SES', MetricName: 'Reputation.BounceRate', Threshold: 0.02 });
    expect(props(backend, 'SesComplaintRateAlarm')).toMatchObject({ Namespace: 'AWS/SES', MetricName: 'Reputation.ComplaintRate', Threshold: 0.0005 });
    expect(props(backend, 'KitchenStoppedAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: ref(functionId('advance-orders')) }],
      Period: ref('KitchenStoppedAlarmPeriodSeconds'),
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // Five runs of the declared schedule.
    expect(backend.Parameters.KitchenStoppedAlarmPeriodSeconds!.Default).toBe(5 * triggerOf('advance-orders', 'schedule').everySeconds);
    expect(props(backend, 'CustomerNotificationsAgeAlarm')).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: getAtt('CustomerNotificationsQueue', 'QueueName') }], Threshold: 300 });
    expect(props(frontend, 'NoHealthyHostsAlarm')).toMatchObject({ MetricName: 'HealthyHostCount', Statistic: 'Minimum', Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
  });

  it('when the dashboard is read, then a row shows what the new alarms watch and the alarm widget lists them', () => {
    const body = JSON.parse(subWithDefaults(backend, props(backend, 'PipelineDashboard').DashboardBody)) as { widgets: { y: number; type: string; properties: { title: string; alarms?: string[] } }[] };
    expect(body.widgets.filter((widget) => widget.y === 32).map((widget) => widget.properties.title)).toEqual(['Tables: throttled reads and writes', 'Kitchen: runs', 'Customer mail: oldest waiting (s), SES bounce and complaint rates']);
    const alarms = body.widgets.find((widget) => widget.type === 'alarm')?.properties.alarms ?? [];
    for (const [name, , id] of newAlarms) if (name === 'backend') expect(alarms).toContain(`\${${id}.Arn}`);
  });
});

describe('cloudformation: names global to the account, and data kept on purpose', () => {
  // The longest prefix NamePrefix allows, and a region code longer than any AWS has (the longest is 15).
  const PREFIX = 'p'.repeat(20);
  const REGION = 'xx-xxxxxxxxxx-1';
  const nameIn = (template: CfnTemplate, value: unknown) => String(resolveWith(template, value, { NamePrefix: PREFIX })).replace('${AWS::Region}', REGION);

  it.each(templates)('when %s.yaml names an IAM role or instance profile, then the name carries the prefix and the region and fits IAM\'s 64 characters at the longest prefix', (_name, template) => {
    const named = [...resourcesOfType(template, 'AWS::IAM::Role').map(([id, role]) => [id, role.Properties?.RoleName] as const), ...resourcesOfType(template, 'AWS::IAM::InstanceProfile').map(([id, profile]) => [id, profile.Properties?.InstanceProfileName] as const)];
    expect(named.length).toBeGreaterThan(0);
    for (const [id, value] of named) {
      expect({ id, written: value === undefined ? 'no name' : 'named' }).toEqual({ id, written: 'named' });
      const name = nameIn(template, value);
      expect({ id, prefixed: name.startsWith(PREFIX), regional: name.endsWith(`-${REGION}`), fits: name.length <= 64 }).toEqual({ id, prefixed: true, regional: true, fits: true });
    }
  });

  it('when the web tier\'s NamePrefix is read, then it takes 17 characters and not 18, as Terraform\'s name_prefix (terraform-frontend/tests), and names the load balancer as Terraform does, within 32', () => {
    const frontend = loadTemplate('frontend');
    const allowed = new RegExp(frontend.Parameters.NamePrefix!.AllowedPattern!);
    expect([allowed.test('staging-shop-one-'), allowed.test('staging-shop-two--')]).toEqual([true, false]);
    const name = String(resolveWith(frontend, props(frontend, 'LoadBalancer').Name, { NamePrefix: 'staging-shop-one-' }));
    expect(name).toBe('staging-shop-one-order-web');
    expect(name.length).toBeLessThanOrEqual(32);
  });

  it('when the backend names each function\'s role, then it is <prefix><function>-<region>, as Terraform names it', () => {
    for (const name of functionNames) {
      const [roleId] = (props(backend, functionId(name)).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      const role = props(backend, roleId, 'AWS::IAM::Role');
      expect({ name, role: nameIn(backend, role.RoleName) }).toEqual({ name, role: `${PREFIX}${roleNamePart(name)}-${REGION}` });
    }
  });

  it('when the backend stack is deleted, or an update would replace them, then the orders, carts and products tables and the user pool are kept, and nothing else is', () => {
    const kept = Object.entries(backend.Resources)
      .filter(([, resource]) => resource.DeletionPolicy !== undefined || resource.UpdateReplacePolicy !== undefined)
      .map(([id, resource]) => ({ id, type: resource.Type, onDelete: resource.DeletionPolicy, onReplace: resource.UpdateReplacePolicy }));
    expect(kept.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'CartsTable', type: 'AWS::DynamoDB::Table', onDelete: 'Retain', onReplace: 'Retain' },
      { id: 'CustomerUserPool', type: 'AWS::Cognito::UserPool', onDelete: 'Retain', onReplace: 'Retain' },
      { id: 'OrdersTable', type: 'AWS::DynamoDB::Table', onDelete: 'Retain', onReplace: 'Retain' },
      { id: 'ProductsTable', type: 'AWS::DynamoDB::Table', onDelete: 'Retain', onReplace: 'Retain' },
    ]);
  });

  it('when ManageApiGatewayAccountRole is left at its default, then the stack neither makes the logging role nor sets the account\'s API Gateway setting', () => {
    expect(backend.Parameters.ManageApiGatewayAccountRole?.Default).toBe('false');
    expect(resolveWith(backend, { Condition: 'ManageApiGatewayAccount' })).toBe(false);
    for (const id of ['ApiGatewayCloudWatchRole', 'ApiGatewayAccount']) expect({ id, condition: backend.Resources[id]?.Condition }).toEqual({ id, condition: 'ManageApiGatewayAccount' });
  });
});
