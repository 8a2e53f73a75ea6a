import { join } from 'node:path';
import { loadTemplate, type CfnTemplate } from './cloudformation.js';
import { cloudFormationModel, CONTROLS, evaluate, findViolations, PARTIAL_WILDCARDS_ALLOWED, parseModule, terraformModel, WILDCARD_RESOURCES_ALLOWED, type ParsedModule, type SecurityModel } from './policy.js';
import { gate } from '../helpers/requirements.js';
import { createTerraformSession, removeTerraformSession, repoRoot, succeeded, terraformInit, terraformUnavailableReason, type ModuleName, type TerraformSession } from './terraform-cli.js';

const VARS: Record<ModuleName, Record<string, string>> = {
  'terraform-backend': { alarm_email: 'ops@example.com', customer_mail_from: 'orders@shop.example' },
  'terraform-frontend': {
    ops_alarms_topic_arn: 'arn:aws:sns:us-east-1:123456789012:ops-alarms',
    api_base_url: 'https://example.execute-api.us-east-1.amazonaws.com/v1',
    api_key_parameter_name: '/order-pipeline/api-key',
    cognito_user_pool_id: 'us-east-1_AbCdEf123',
    cognito_client_id: 'abcdef0123456789',
    cognito_issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123',
    web_artifact_path: join(repoRoot, 'terraform-frontend', 'tests', 'fixtures', 'order-web.tar.gz'),
  },
};

const PLANTED_TERRAFORM = `
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

/** The controls a model holds facts of, so that a control nothing was read for cannot pass unnoticed. */
const controlsFound = (...models: SecurityModel[]) => new Set(models.flatMap((model) => model.controls.map((fact) => fact.control)));

describe('the security policy', () => {
  it('lists every Resource "*" and every "*" inside an ARN it allows, with the reason', () => {
    console.log(`Resource "*" is allowed only here:\n${WILDCARD_RESOURCES_ALLOWED.map((allowed) => `  - ${allowed.reason}`).join('\n')}`);
    console.log(`A "*" inside a resource ARN is allowed only here:\n${PARTIAL_WILDCARDS_ALLOWED.map((allowed) => `  - ${allowed.reason}`).join('\n')}`);
    expect([...WILDCARD_RESOURCES_ALLOWED, ...PARTIAL_WILDCARDS_ALLOWED].every((allowed) => allowed.reason.length > 20)).toBe(true);
  });

  describe('over CloudFormation', () => {
    const templates = () => [loadTemplate('backend'), loadTemplate('frontend')];

    it('when both templates are checked, then nothing breaks the policy, and every kind of fact was found', () => {
      const model = cloudFormationModel(...templates());
      expect(findViolations(model)).toEqual([]);
      expect(new Set(model.encryption.map((fact) => fact.kind))).toEqual(new Set(['queue', 'topic', 'table', 'bucket', 'volume']));
      expect(model.instanceMetadata.length).toBeGreaterThan(0);
      expect(model.ingress.some((rule) => rule.loadBalancer && rule.cidr === '0.0.0.0/0')).toBe(true);
      expect(model.statements.length).toBeGreaterThan(10);
      // The kitchen's role and its schedule's permission are among the facts checked.
      expect(model.statements.filter(({ where }) => where.startsWith('AdvanceOrdersRole.Policies.')).length).toBeGreaterThanOrEqual(5);
      expect(model.invokePermissions).toEqual(expect.arrayContaining([{ where: 'KitchenSchedulePermission', principal: 'events.amazonaws.com', sourceArn: '{"Fn::GetAtt":["KitchenScheduleRule","Arn"]}' }]));
      expect(model.invokePermissions.every((permission) => permission.sourceArn !== null)).toBe(true);
    });

    it('when both templates are read for the Control Tower controls, then every control has facts and all hold', () => {
      const model = cloudFormationModel(...templates());
      expect([...controlsFound(model)].sort()).toEqual(Object.keys(CONTROLS).sort());
      expect(model.controls.filter((fact) => !fact.ok)).toEqual([]);
      console.log(`Control Tower controls held by both tools (${Object.keys(CONTROLS).length}), ${model.controls.length} facts in the templates:\n${Object.values(CONTROLS).map((control) => `  - ${control}`).join('\n')}`);
    });

    it('when the artifact bucket loses its TLS-only policy, the key its grant rule and the stage its tracing, then the policy catches each', () => {
      const [backend, frontend] = templates() as [CfnTemplate, CfnTemplate];
      delete frontend.Resources.ArtifactBucketPolicy;
      const key = backend.Resources.NotificationsKey!.Properties!.KeyPolicy as { Statement: { Sid?: string }[] };
      key.Statement = key.Statement.filter((statement) => statement.Sid !== 'DenyGrantsExceptForAwsResources');
      backend.Resources.OrdersApiStage!.Properties!.TracingEnabled = false;
      expect(findViolations(cloudFormationModel(backend, frontend))).toEqual([
        'NotificationsKey: fails kms_create_grant_aws_service_check: every key policy denies grants except for AWS resources',
        'OrdersApiStage: fails api_gw_xray_enabled_check: the stage traces with X-Ray',
        'ArtifactBucket: fails s3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
      ]);
    });

    it('when a "*" action or an open port 22 is planted, then the policy catches each', () => {
      const [backend, frontend] = templates() as [CfnTemplate, CfnTemplate];
      const role = Object.values(backend.Resources).find((resource) => resource.Type === 'AWS::IAM::Role' && resource.Properties?.Policies)!;
      (role.Properties!.Policies as { PolicyDocument: { Statement: unknown[] } }[])[0]!.PolicyDocument.Statement.push({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' });
      const group = Object.values(frontend.Resources).find((resource) => resource.Type === 'AWS::EC2::SecurityGroup')!;
      ((group.Properties!.SecurityGroupIngress ??= []) as unknown[]).push({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' });
      const violations = findViolations(cloudFormationModel(backend, frontend));
      expect(violations).toEqual(expect.arrayContaining([expect.stringMatching(/wildcard action sqs:\*/), expect.stringMatching(/Resource "\*"/), expect.stringMatching(/ingress on port 22/)]));
    });

    it('when every index of the table or an unscoped schedule permission is planted, then the policy catches each', () => {
      const [backend] = templates() as [CfnTemplate, CfnTemplate];
      const kitchen = backend.Resources.AdvanceOrdersRole!.Properties!.Policies as { PolicyDocument: { Statement: Record<string, unknown>[] } }[];
      kitchen[0]!.PolicyDocument.Statement[0]!.Resource = { 'Fn::Sub': '${OrdersTable.Arn}/index/*' };
      delete backend.Resources.KitchenSchedulePermission!.Properties!.SourceArn;
      expect(findViolations(cloudFormationModel(backend))).toEqual([
        'AdvanceOrdersRole.Policies.advance-orders: wildcard in resource {"Fn::Sub":"${OrdersTable.Arn}/index/*"}',
        'KitchenSchedulePermission: events.amazonaws.com may invoke the function from any source (no source ARN)',
      ]);
    });
  });

  // Through the one gate: under CI=true a missing terraform fails this half, elsewhere it is skipped saying why.
  gate('the Terraform half of the policy test', terraformUnavailableReason()).describe('over Terraform', () => {
    let session: TerraformSession;
    const modules: ModuleName[] = ['terraform-backend', 'terraform-frontend'];
    beforeAll(async () => {
      session = await createTerraformSession(modules);
      await Promise.all(modules.map(async (module) => succeeded(await terraformInit(session, module))));
    }, 180_000);
    afterAll(() => removeTerraformSession(session));

    const modelOf = (module: ModuleName, parsed: ParsedModule) => terraformModel(parsed, (expressions) => evaluate(session, module, expressions, VARS[module]));

    it.each(modules)('when %s is checked, then nothing breaks the policy', async (module) => {
      const model = await modelOf(module, await parseModule(join(repoRoot, module)));
      expect(findViolations(model)).toEqual([]);
      expect(model.statements.length).toBeGreaterThan(2);
      if (module === 'terraform-frontend') {
        // The ALB's listeners, expanded from for_each: 80 from the default allowed CIDR.
        expect(model.ingress).toEqual(expect.arrayContaining([{ where: 'aws_vpc_security_group_ingress_rule.alb', fromPort: 80, toPort: 80, cidr: '0.0.0.0/0', loadBalancer: true }]));
        expect(model.instanceMetadata).toEqual([{ where: 'aws_launch_template.web', tokensRequired: true }]);
      } else {
        expect(new Set(model.encryption.map((fact) => fact.kind))).toEqual(new Set(['queue', 'topic', 'table']));
        // The kitchen's role and its schedule's permission are among the facts checked.
        expect(model.statements.filter(({ where }) => where.startsWith('aws_iam_role_policy.advance_orders[')).map(({ actions }) => actions)).toEqual([
          ['dynamodb:Query'],
          ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          ['sns:Publish'],
          ['kms:GenerateDataKey', 'kms:Decrypt'],
        ]);
        expect(model.invokePermissions).toEqual(expect.arrayContaining([{ where: 'aws_lambda_permission.kitchen_schedule', principal: 'events.amazonaws.com', sourceArn: '${aws_cloudwatch_event_rule.kitchen.arn}' }]));
        expect(model.invokePermissions.map(({ where }) => where).sort()).toEqual([
          'aws_lambda_permission.api_cart',
          'aws_lambda_permission.api_checkout',
          'aws_lambda_permission.api_get_order',
          'aws_lambda_permission.api_get_orders',
          'aws_lambda_permission.api_my_orders',
          'aws_lambda_permission.api_submit_order',
          'aws_lambda_permission.kitchen_schedule',
        ]);
        // The customer functions' grants and the customer notifications queue's policy are judged too.
        expect(model.statements.filter(({ where }) => where.startsWith('aws_iam_role_policy.notify_customer[')).map(({ actions }) => actions)).toEqual([
          ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
          ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          ['ses:SendEmail'],
        ]);
        expect(model.statements.filter(({ where }) => where.startsWith('aws_sqs_queue_policy.customer_notifications[')).map(({ actions }) => actions)).toEqual([['sqs:SendMessage']]);
      }
    }, 120_000);

    it('when both modules are read for the Control Tower controls, then every control has facts and all hold', async () => {
      const models = await Promise.all(modules.map(async (module) => modelOf(module, await parseModule(join(repoRoot, module)))));
      expect([...controlsFound(...models)].sort()).toEqual(Object.keys(CONTROLS).sort());
      expect(models.flatMap((model) => model.controls.filter((fact) => !fact.ok))).toEqual([]);
    }, 120_000);

    it('when a log group without retention, a queue without a DLQ and an alarm that tells no one are planted, then the policy catches each', async () => {
      const parsed = await parseModule(join(repoRoot, 'terraform-backend'), { 'planted.tf': PLANTED_CONTROLS });
      expect(findViolations(await modelOf('terraform-backend', parsed))).toEqual([
        'aws_cloudwatch_metric_alarm.planted_silent: fails cloudwatch_alarm_action_check: every alarm notifies someone, with its actions enabled',
        'aws_cloudwatch_log_group.planted_forever: fails cloudwatch_log_group_retention_period_check: every log group has a retention',
        'aws_sqs_queue.planted_no_dlq: fails sqs_dlq_check: every queue has a dead-letter queue, or is one',
      ]);
      // The frontend's buckets without their TLS-only policies (as the rehearsal's override leaves them on moto).
      const frontend = await parseModule(join(repoRoot, 'terraform-frontend'));
      delete frontend.resource.aws_s3_bucket_policy;
      expect(findViolations(await modelOf('terraform-frontend', frontend))).toEqual([
        'aws_s3_bucket.access_logs: fails s3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
        'aws_s3_bucket.artifacts: fails s3_bucket_policy_ssl_requests_only_check: every bucket denies requests without TLS',
      ]);
    }, 120_000);

    it('when a "*" action or an open port 22 is planted, then the policy catches each', async () => {
      const parsed = await parseModule(join(repoRoot, 'terraform-frontend'), { 'planted.tf': PLANTED_TERRAFORM });
      const violations = findViolations(await modelOf('terraform-frontend', parsed));
      expect(violations).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/planted_admin.*wildcard action \*/),
          expect.stringMatching(/planted_admin.*Resource "\*"/),
          expect.stringMatching(/planted_ssh: ingress on port 22/),
          expect.stringMatching(/planted_ssh: ingress from 0\.0\.0\.0\/0 on 22-22/),
        ]),
      );
    }, 120_000);

    it('when every index of the table or an unscoped schedule permission is planted in the backend, then the policy catches each', async () => {
      const parsed = await parseModule(join(repoRoot, 'terraform-backend'), { 'planted.tf': PLANTED_BACKEND });
      expect(findViolations(await modelOf('terraform-backend', parsed))).toEqual([
        'aws_iam_role_policy.planted_every_index[0].policy.Statement[0]: wildcard in resource ${aws_dynamodb_table.orders.arn}/index/*',
        'aws_lambda_permission.planted_any_rule: events.amazonaws.com may invoke the function from any source (no source ARN)',
      ]);
    }, 120_000);
  });
});
