// IAM role names are global to the account and at most 64 characters: each carries the stack's prefix
// and its region. A function's name may be 31 characters and the prefix 20, which with a region would
// not fit, so a long function name is cut the same way by both flavours (platform/functions.ts
// roleNamePart, terraform-backend/main.tf). Terraform's side is its own evaluation (an offline plan).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { yamlParse } from 'yaml-cfn';
import { backendTemplate, SOURCE, type Template } from '../../cloudformation/generate.js';
import { functions, roleNamePart, type FunctionSpec } from '../../platform/functions.js';
import { gate } from '../helpers/requirements.js';
import { refundOrder } from './ninth-function.js';
import { createTerraformSession, offlinePlan, plannedOfType, removeTerraformSession, terraformUnavailableReason, type TerraformPlan, type TerraformSession } from './terraform-cli.js';

// Two names as long as the list allows, alike in their first 20 characters.
const LONG = 'refund-order-for-the-customer-a';
const TWIN = 'refund-order-for-the-customer-b';
const PREFIX = 'p'.repeat(20);
const REGION = 'ap-southeast-5';

const withRoute = (route: string): FunctionSpec => ({ ...refundOrder, trigger: { type: 'api', routes: [route], authorizer: 'cognito' } });
const declaration: Readonly<Record<string, FunctionSpec>> = { ...functions, [LONG]: withRoute('POST /me/orders/{id}/refund'), [TWIN]: withRoute('POST /me/orders/{id}/return') };

describe('IAM role names: the rule both flavours follow', () => {
  it('when a function name is at most 27 characters, then it is its own part of the role name; longer, it is cut to 20 and told apart by its hash', () => {
    expect(roleNamePart('notify-customer')).toBe('notify-customer');
    expect(roleNamePart('x'.repeat(27))).toBe('x'.repeat(27));
    expect(roleNamePart(LONG)).toMatch(/^refund-order-for-the-[0-9a-f]{6}$/);
    expect(roleNamePart(LONG)).not.toBe(roleNamePart(TWIN));
  });

  it('when the longest names meet the longest prefix, then CloudFormation names the roles within 64 characters', async () => {
    const source = yamlParse(await readFile(SOURCE, 'utf8')) as Template;
    const template = backendTemplate({ source, functions: declaration, codeDir: '../lambdas' });
    const role = (id: string) => String((template.Resources[id]?.Properties?.RoleName as { 'Fn::Sub': string })['Fn::Sub']).replace('${NamePrefix}', PREFIX).replace('${AWS::Region}', REGION);
    expect(role('RefundOrderForTheCustomerARole')).toBe(`${PREFIX}${roleNamePart(LONG)}-${REGION}`);
    expect(role('RefundOrderForTheCustomerARole').length).toBeLessThanOrEqual(64);
  });
});

gate('IAM role names in Terraform', terraformUnavailableReason()).describe('IAM role names: Terraform', () => {
  let session: TerraformSession | undefined;
  let plan: TerraformPlan;

  beforeAll(async () => {
    session = await createTerraformSession(['terraform-backend'], { declaration });
    const packages = join(session.root, 'packages');
    await mkdir(packages);
    for (const name of Object.keys(declaration)) await writeFile(join(packages, `${name}.zip`), name);
    plan = await offlinePlan(session, 'terraform-backend', {
      alarm_email: 'ops@example.com',
      customer_mail_from: 'shop@example.com',
      lambda_package_dir: packages,
      name_prefix: PREFIX,
      aws_region: REGION,
    });
  }, 240_000);

  afterAll(() => removeTerraformSession(session));

  it('when the longest names meet the longest prefix, then every role is <prefix><part>-<region> within 64 characters, as CloudFormation names it', () => {
    const roles = [...plannedOfType(plan, 'aws_iam_role', 'lambda')].map(([name, role]) => [name, String(role.values.name)] as const);
    expect(roles.map(([name]) => name).sort()).toEqual(Object.keys(declaration).sort());
    for (const [name, role] of roles) expect({ name, role, fits: role.length <= 64 }).toEqual({ name, role: `${PREFIX}${roleNamePart(name)}-${REGION}`, fits: true });
    expect(new Set(roles.map(([, role]) => role)).size).toBe(roles.length);
  });
});
