// A function is declared once, in platform/functions.json: CloudFormation's resources for it are
// generated (cloudformation/generate.ts), none is written by hand. Here the generator is given a
// scratch declaration with a ninth function, so no file of the project is edited.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { yamlParse } from 'yaml-cfn';
import { backendTemplate, SOURCE, writeBackendTemplate, type Declaration } from '../../cloudformation/generate.js';
import { functionNames, functions, type FunctionSpec } from '../../platform/functions.js';
import { cfnLintVersion, loadTemplate, parseTemplateFile, props, resourcesOfType, roleGrants, runCfnLintOn, subWithDefaults, type CfnTemplate } from './cloudformation.js';
import { gate } from '../helpers/requirements.js';
import { refundOrder, withNinthFunction } from './ninth-function.js';

const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
const source = () => yamlParse(readFileSync(SOURCE, 'utf8')) as CfnTemplate;
const deployed = loadTemplate('backend');
const cfnLint = gate('cfn-lint on a generated template', cfnLintVersion() ? undefined : 'cfn-lint is not on PATH (pip install cfn-lint)');

const withRefund: Declaration = withNinthFunction;

describe('cloudformation: each function declared once', () => {
  it('when cloudformation/backend.yaml is read, then no function, role, log group, alarm, trigger, route, deployment or name output of a function is written there', () => {
    const written = source();
    const types = (type: string) => resourcesOfType(written, type).map(([id]) => id);
    for (const type of ['AWS::ApiGateway::Resource', 'AWS::ApiGateway::Method', 'AWS::ApiGateway::Deployment', 'AWS::Lambda::EventSourceMapping', 'AWS::Events::Rule', 'AWS::Lambda::Permission']) {
      expect({ type, ids: types(type) }).toEqual({ type, ids: [] });
    }
    // The one function left is the custom resource's, its code inline.
    expect(resourcesOfType(written, 'AWS::Lambda::Function').filter(([, fn]) => typeof fn.Properties?.Code === 'string').map(([id]) => id)).toEqual([]);
    expect(resourcesOfType(written, 'AWS::CloudWatch::Alarm').filter(([, alarm]) => alarm.Properties?.Namespace === 'AWS/Lambda').map(([id]) => id)).toEqual([]);
    const logGroups = resourcesOfType(written, 'AWS::Logs::LogGroup').map(([, group]) => subWithDefaults(written, group.Properties!.LogGroupName));
    expect(logGroups.filter((name) => functionNames.some((fn) => name === `/aws/lambda/${fn}`))).toEqual([]);
    expect(Object.keys(written.Outputs ?? {}).filter((id) => id.endsWith('FunctionName'))).toEqual([]);
    expect(props(written, 'OrdersApiStage').DeploymentId).toBeUndefined();
  });

  it('when the template is generated again from the source and the declaration, then it is the one npm run build wrote', () => {
    expect(backendTemplate({ source: source(), functions, codeDir: '../lambdas' })).toEqual(deployed);
  });

  it('when the source still writes a resource the generator makes, then generating fails naming it', () => {
    const stale = source();
    stale.Resources.SubmitOrderRole = { Type: 'AWS::IAM::Role', Properties: {} };
    expect(() => backendTemplate({ source: stale, functions, codeDir: '../lambdas' })).toThrow(/already has SubmitOrderRole/);
  });

  describe('a ninth function, declared only', () => {
    let dir: string;
    let file: string;
    let template: CfnTemplate;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'orders-declared-once-'));
      file = await writeBackendTemplate({ output: join(dir, 'cloudformation', 'backend.yaml'), functions: withRefund, lambdasDir: join(dir, 'lambdas') });
      template = parseTemplateFile(file);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('when its template is generated, then it has its role with its grant, its logs and traces, its log group, function and both alarms', () => {
      expect(roleGrants(template, 'RefundOrderRole')).toEqual([
        { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: getAtt('OrdersTable', 'Arn') },
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: getAtt('RefundOrderLogGroup', 'Arn') },
        { actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resource: '*' },
      ]);
      expect(template.Resources.RefundOrderRole?.Metadata).toEqual({ GrantReasons: { RefundOrders: 'Reads the order and marks it refunded.' } });
      expect(subWithDefaults(template, props(template, 'RefundOrderLogGroup', 'AWS::Logs::LogGroup').LogGroupName)).toBe('/aws/lambda/refund-order');
      const fn = props(template, 'RefundOrderFunction', 'AWS::Lambda::Function');
      expect(subWithDefaults(template, fn.FunctionName)).toBe('refund-order');
      expect(fn).toMatchObject({
        Description: refundOrder.description,
        // Relative to the template's folder, where `aws cloudformation package` looks for it.
        Code: '../lambdas/refund-order.zip',
        MemorySize: 512,
        Timeout: 15,
        Role: getAtt('RefundOrderRole', 'Arn'),
        LoggingConfig: { LogGroup: ref('RefundOrderLogGroup') },
        Environment: { Variables: { TABLE_NAME: ref('OrdersTable'), POWERTOOLS_SERVICE_NAME: 'refund-order', POWERTOOLS_LOG_LEVEL: ref('LogLevel'), POWERTOOLS_METRICS_NAMESPACE: 'OrderPipeline' } },
      });
      for (const metric of ['Errors', 'Throttles']) {
        const alarm = props(template, `RefundOrder${metric}Alarm`, 'AWS::CloudWatch::Alarm');
        expect(subWithDefaults(template, alarm.AlarmName)).toBe(`refund-order-${metric.toLowerCase()}`);
        expect(alarm).toMatchObject({ MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: ref('RefundOrderFunction') }], AlarmActions: [ref('OpsAlarmsTopic')] });
      }
      expect(template.Outputs.RefundOrderFunctionName?.Value).toEqual(ref('RefundOrderFunction'));
    });

    it('when its route is generated, then it has its resource under /me/orders/{id}, its method behind the authorizer and its invoke permission, and a new deployment has them', () => {
      expect(props(template, 'ApiMeOrdersIdRefundResource', 'AWS::ApiGateway::Resource')).toEqual({ RestApiId: ref('OrdersApi'), ParentId: ref('MeOrderResource'), PathPart: 'refund' });
      expect(props(template, 'PostMeOrdersIdRefundMethod', 'AWS::ApiGateway::Method')).toMatchObject({
        ResourceId: ref('ApiMeOrdersIdRefundResource'),
        HttpMethod: 'POST',
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: ref('CustomersAuthorizer'),
        ApiKeyRequired: true,
        RequestParameters: { 'method.request.path.id': true },
        Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${RefundOrderFunction.Arn}/invocations' } },
      });
      expect(props(template, 'PostMeOrdersIdRefundInvokePermission', 'AWS::Lambda::Permission')).toEqual({
        FunctionName: ref('RefundOrderFunction'),
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: { 'Fn::Sub': 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${OrdersApi}/*/POST/me/orders/*/refund' },
        SourceAccount: ref('AWS::AccountId'),
      });
      // The routes changed, so the deployment is a new one (the stage moves to it) and it waits for the new method.
      const [deployment] = resourcesOfType(template, 'AWS::ApiGateway::Deployment');
      const [before] = resourcesOfType(deployed, 'AWS::ApiGateway::Deployment');
      expect(deployment?.[0]).not.toBe(before?.[0]);
      expect(deployment?.[1].DependsOn).toContain('PostMeOrdersIdRefundMethod');
      expect(props(template, 'OrdersApiStage').DeploymentId).toEqual(ref(deployment![0]));
    });

    it('when its template is compared with the deployed one, then only its own resources and the deployment differ', () => {
      const added = Object.keys(template.Resources).filter((id) => !(id in deployed.Resources));
      expect(added.filter((id) => !id.startsWith('OrdersApiDeployment')).sort()).toEqual(
        ['ApiMeOrdersIdRefundResource', 'PostMeOrdersIdRefundInvokePermission', 'PostMeOrdersIdRefundMethod', 'RefundOrderErrorsAlarm', 'RefundOrderFunction', 'RefundOrderLogGroup', 'RefundOrderRole', 'RefundOrderThrottlesAlarm'].sort(),
      );
      for (const [id, resource] of Object.entries(deployed.Resources)) {
        if (resource.Type === 'AWS::ApiGateway::Deployment' || id === 'OrdersApiStage') continue;
        expect({ id, resource: template.Resources[id] }).toEqual({ id, resource });
      }
    });

    cfnLint.it('when cfn-lint checks its template, then it reports no error and no warning', () => {
      const { exitCode, output } = runCfnLintOn([file]);
      expect(output).toBe('');
      expect(exitCode).toBe(0);
    }, 120_000);
  });

  it('when a function runs on a schedule the template has no parameter for, then its rule runs it at the declared rate, and only that rule may invoke it', () => {
    const expireCarts: FunctionSpec = { ...refundOrder, description: 'Sweeps expired carts.', permissions: [], trigger: { type: 'schedule', expression: 'rate(1 hour)', everySeconds: 3600 } };
    const template = backendTemplate({ source: source(), functions: { ...functions, 'expire-carts': expireCarts }, codeDir: '../lambdas' }) as CfnTemplate;
    expect(props(template, 'ExpireCartsScheduleRule', 'AWS::Events::Rule')).toMatchObject({ ScheduleExpression: 'rate(1 hour)', Targets: [{ Id: 'expire-carts', Arn: getAtt('ExpireCartsFunction', 'Arn') }] });
    expect(props(template, 'ExpireCartsSchedulePermission', 'AWS::Lambda::Permission')).toMatchObject({ Principal: 'events.amazonaws.com', SourceArn: getAtt('ExpireCartsScheduleRule', 'Arn') });
    // The kitchen keeps its ids and its parameter.
    expect(props(template, 'KitchenScheduleRule').ScheduleExpression).toEqual(ref('KitchenScheduleExpression'));
  });

  it('when a function would take batches of the orders queue larger than a FIFO mapping allows, then generating fails', () => {
    const bulk: FunctionSpec = { ...refundOrder, trigger: { type: 'queue', queue: 'orders', batchSize: 20, maximumBatchingWindowSeconds: 1, maximumConcurrency: 2 } };
    expect(() => backendTemplate({ source: source(), functions: { ...functions, bulk }, codeDir: '../lambdas' })).toThrow(/FIFO event source mapping takes batches of at most 10, not 20/);
  });

  it('when two paths would spell one logical id, then generating fails naming it rather than one path standing for the other', () => {
    const split: FunctionSpec = { ...refundOrder, trigger: { type: 'api', routes: ['GET /me/gift-cards'] } };
    const joined: FunctionSpec = { ...refundOrder, trigger: { type: 'api', routes: ['POST /me/gift/cards'] } };
    expect(() => backendTemplate({ source: source(), functions: { ...functions, split, joined }, codeDir: '../lambdas' })).toThrow(/both make the id ApiMeGiftCardsResource/);
  });
});
