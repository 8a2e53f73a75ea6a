// A function is declared once: one more entry in platform/functions.json (here in a scratch copy, no
// other file touched) and Terraform deploys it with its role, grants, log group, alarms and route,
// as Terraform itself evaluates the module (an offline plan, read with `terraform show -json`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { functionNames } from '../../platform/functions.js';
import { gate } from '../helpers/requirements.js';
import { NINTH, NINTH_ROUTE as ROUTE, refundOrder, withNinthFunction } from './ninth-function.js';
import { createTerraformSession, offlinePlan, plannedOfType, removeTerraformSession, terraformUnavailableReason, type TerraformPlan, type TerraformSession } from './terraform-cli.js';

const declaration = withNinthFunction;

gate('a ninth function in Terraform', terraformUnavailableReason()).describe('a ninth function, declared once: Terraform', () => {
  let session: TerraformSession | undefined;
  let plan: TerraformPlan;

  beforeAll(async () => {
    session = await createTerraformSession(['terraform-backend'], { declaration });
    // A zip for each declared function: the plan hashes them, and nothing more is read of them here.
    const packages = join(session.root, 'packages');
    await mkdir(packages);
    for (const name of Object.keys(declaration)) await writeFile(join(packages, `${name}.zip`), name);
    plan = await offlinePlan(session, 'terraform-backend', { alarm_email: 'ops@example.com', customer_mail_from: 'shop@example.com', lambda_package_dir: packages });
  }, 240_000);

  afterAll(() => removeTerraformSession(session));

  it('when the list has a ninth entry, then the plan has its function as declared, with its role, its log group and its two alarms', () => {
    const fn = plannedOfType(plan, 'aws_lambda_function').get(NINTH)?.values;
    expect(fn).toMatchObject({ function_name: NINTH, memory_size: 512, timeout: 15, handler: 'index.handler', description: refundOrder.description });
    expect(Object.keys((fn?.environment as { variables: Record<string, string> }[])[0]!.variables).sort()).toEqual(['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME', 'TABLE_NAME']);
    expect(plannedOfType(plan, 'aws_iam_role').get(NINTH)?.values).toMatchObject({ name: `${NINTH}-us-east-1` });
    expect(plannedOfType(plan, 'aws_cloudwatch_log_group').get(NINTH)?.values).toMatchObject({ name: `/aws/lambda/${NINTH}`, retention_in_days: 30 });
    expect(plannedOfType(plan, 'aws_cloudwatch_metric_alarm', 'lambda_errors').get(NINTH)?.values).toMatchObject({ alarm_name: `${NINTH}-errors`, metric_name: 'Errors', dimensions: { FunctionName: NINTH } });
    expect(plannedOfType(plan, 'aws_cloudwatch_metric_alarm', 'lambda_throttles').get(NINTH)?.values).toMatchObject({ alarm_name: `${NINTH}-throttles`, metric_name: 'Throttles', dimensions: { FunctionName: NINTH } });
    // Every function has the same: those declared today, and one more here.
    expect(plannedOfType(plan, 'aws_lambda_function').size).toBe(functionNames.length + 1);
  });

  it('when the list has a ninth entry, then its role has its log, trace and declared grants policies, the last waiting on the table it names', () => {
    for (const name of ['grants', 'lambda_logs', 'lambda_tracing']) expect(plannedOfType(plan, 'aws_iam_role_policy', name).get(NINTH)?.values).toMatchObject({ name: expect.any(String) as unknown });
    expect(plannedOfType(plan, 'aws_iam_role_policy', 'grants').size).toBe(functionNames.length + 1);
    // The grant names the table, whose ARN is known only after apply: the plan leaves the policy open.
    const grants = (plan as unknown as { resource_changes: { address: string; change: { after_unknown: Record<string, unknown> } }[] }).resource_changes.find(
      (change) => change.address === `aws_iam_role_policy.grants["${NINTH}"]`,
    );
    expect(grants?.change.after_unknown.policy).toBe(true);
  });

  it("when the list has a ninth entry, then its route has a method behind the API key and the customer's token, an integration and an invoke permission for that route only", () => {
    expect(plannedOfType(plan, 'aws_api_gateway_method').get(ROUTE)?.values).toMatchObject({
      http_method: 'POST',
      authorization: 'COGNITO_USER_POOLS',
      api_key_required: true,
      request_parameters: { 'method.request.path.id': true },
    });
    expect(plannedOfType(plan, 'aws_api_gateway_integration').get(ROUTE)?.values).toMatchObject({ type: 'AWS_PROXY', integration_http_method: 'POST' });
    expect(plannedOfType(plan, 'aws_lambda_permission').get(ROUTE)?.values).toMatchObject({ function_name: NINTH, principal: 'apigateway.amazonaws.com', statement_id: 'AllowApiGatewayPostMeOrdersIdRefund' });
    expect(plannedOfType(plan, 'aws_api_gateway_resource').get('me/orders/{id}/refund')?.values).toMatchObject({ path_part: 'refund' });
  });
});
