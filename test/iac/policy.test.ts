// The security policy (test/iac/policy.ts) over the CloudFormation templates as cfn-lint and cfn-guard
// read them. Its Terraform half runs in the moto rehearsal (test/iac/rehearsal.test.ts), on plans of
// both modules against what the rehearsal applied, where every ARN a policy names is known.
import { loadTemplate, type CfnTemplate } from './cloudformation.js';
import { cloudFormationModel, CONTROLS, controlsFound, findViolations, PARTIAL_WILDCARDS_ALLOWED, WILDCARD_RESOURCES_ALLOWED } from './policy.js';

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
});
