// The CloudFormation deploy guide's commands, run as written: the bash block of
// docs/deploy-cloudformation.md, with its <deploy-bucket> placeholder filled in and without its first
// line (`npm ci && npm run build`, which npm test has done), by the real `aws` CLI against a stand-in
// endpoint (test/iac/cloudformation-standin.ts: S3 is moto, CloudFormation checks what a deploy sends
// the way the service would and then completes it). Both templates go through it, packaged as the
// guide packages them; a template over its limit fails the same commands.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { commandMissing, gate } from '../helpers/requirements.js';
import { MOTO_CREDENTIALS, motoMissing, startMoto, type Moto } from './moto.js';
import { CLOUDFORMATION_LIMITS, startCloudFormationStandIn, type CloudFormationStandIn } from './cloudformation-standin.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const GUIDE = join(ROOT, 'docs/deploy-cloudformation.md');
const DEPLOY_BUCKET = 'order-deploy-standin';
const REGION = 'us-east-1';

/** What a deployment's outputs would hold, in their real shapes; the commands feed them to the frontend. */
const OUTPUTS = {
  ApiBaseUrl: 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1',
  ApiKeyParameterName: '/order-pipeline/api-key',
  OpsAlarmsTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops-alarms',
  OrderEventsTopicArn: 'arn:aws:sns:us-east-1:123456789012:order-events',
  UserPoolId: 'us-east-1_AbCdEf123',
  UserPoolClientId: '1example23456789abcdefghij',
  UserPoolIssuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123',
  ArtifactBucket: 'order-web-artifacts-standin',
};

/**
 * The guide's commands in its order: the certificate's block, then the deploy block with its
 * placeholder filled and its build line left to npm test.
 */
function guideCommands(): string {
  const [certificate, deploy] = [...readFileSync(GUIDE, 'utf8').matchAll(/```bash\n([\s\S]*?)```/g)].map((match) => match[1]!);
  if (!certificate?.includes('aws acm request-certificate')) throw new Error(`${GUIDE}'s first bash block no longer requests the certificate`);
  const lines = (deploy ?? '').split('\n');
  if (!lines[0]!.startsWith('npm ci && npm run build')) throw new Error(`The guide's deploy block no longer starts with the build: ${lines[0]}`);
  return `${certificate}\n${lines.slice(1).join('\n')}`.replaceAll('<deploy-bucket>', DEPLOY_BUCKET);
}

/** A scratch directory with what the commands read: the built backend, its zips, the web artifact and frontend.yaml. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfn-deploy-'));
  for (const path of ['dist/cloudformation', 'dist/lambdas', 'dist/web/order-web.tar.gz', 'cloudformation/frontend.yaml']) cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  return dir;
}

const missing = motoMissing() ?? commandMissing('aws', ['--version'], 'the AWS CLI: pip install awscli') ?? commandMissing('bash', ['--version'], 'bash');
gate('the CloudFormation deploy guide', missing).describe('docs/deploy-cloudformation.md: the commands as written', () => {
  let moto: Moto;
  let standIn: CloudFormationStandIn;
  let s3: S3Client;
  const dirs: string[] = [];

  beforeAll(async () => {
    // ACM (moto's) marks the guide's certificate validated at once, as DNS validation would in minutes.
    moto = await startMoto({ env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
    s3 = new S3Client({ endpoint: moto.endpoint, region: REGION, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
  }, 60_000);
  afterAll(() => {
    moto?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    standIn = await startCloudFormationStandIn({ moto: moto.endpoint, outputs: OUTPUTS });
  });
  afterEach(() => standIn.close());

  // Asynchronous: the stand-in answers from this process, which a synchronous spawn would block.
  async function run(dir: string, commands = guideCommands()): Promise<{ status: number; said: string }> {
    const env = { ...process.env, AWS_ENDPOINT_URL: standIn.endpoint, AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: REGION, AWS_PAGER: '' };
    try {
      const { stdout, stderr } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', commands], { cwd: dir, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
      return { status: 0, said: `${stdout}\n${stderr}` };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { status: typeof failed.code === 'number' ? failed.code : -1, said: `${failed.stdout ?? ''}\n${failed.stderr ?? ''}` };
    }
  }

  it('when the guide is followed, then both stacks are created, the release updates the frontend with its key, and the artifact is in its bucket', async () => {
    // The first frontend deploy would have made the bucket the release uploads to.
    await s3.send(new CreateBucketCommand({ Bucket: OUTPUTS.ArtifactBucket })).catch(() => undefined);
    const dir = workspace();
    dirs.push(dir);
    const { status, said } = await run(dir);
    expect({ status, refused: standIn.refused }).toEqual({ status: 0, refused: [] });

    const [backend, frontend, release] = standIn.accepted;
    expect(standIn.accepted.map(({ stack, type }) => `${type} ${stack}`)).toEqual(['CREATE order-pipeline-backend', 'CREATE order-pipeline-frontend', 'UPDATE order-pipeline-frontend']);
    // Both templates are over the request body's limit, so each deploy must go through the bucket.
    for (const changeSet of standIn.accepted) {
      expect({ stack: changeSet.stack, via: changeSet.via, overBodyLimit: changeSet.templateBytes > CLOUDFORMATION_LIMITS.templateBodyBytes, underLimit: changeSet.templateBytes <= CLOUDFORMATION_LIMITS.templateObjectBytes }).toEqual({ stack: changeSet.stack, via: 'TemplateURL', overBodyLimit: true, underLimit: true });
    }
    expect(backend!.parameters).toMatchObject({ AlarmEmail: 'ops@example.com', CustomerMailFrom: 'orders@shop.example' });
    // The backend's outputs reached the frontend through the guide's `out` function.
    expect(frontend!.parameters).toMatchObject({ ApiBaseUrl: OUTPUTS.ApiBaseUrl, CognitoIssuer: OUTPUTS.UserPoolIssuer, OpsAlarmsTopicArn: OUTPUTS.OpsAlarmsTopicArn, OrderEventsTopicArn: OUTPUTS.OrderEventsTopicArn });
    // The certificate the guide's first block requested, in the stack's region.
    expect(frontend!.parameters.CertificateArn).toMatch(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/);
    const key = release!.parameters.ArtifactKey!;
    expect(key).toMatch(/^releases\/order-web-[0-9a-f]{16}\.tar\.gz$/);
    // A release keeps every other parameter as the first deploy set it.
    expect({ ...release!.parameters, ArtifactKey: frontend!.parameters.ArtifactKey }).toEqual(frontend!.parameters);
    await expect(s3.send(new HeadObjectCommand({ Bucket: OUTPUTS.ArtifactBucket, Key: key }))).resolves.toBeDefined();
    expect(said).not.toMatch(/error/i);
  }, 300_000);

  it.each([
    // (A parameter the template does not declare never leaves the CLI: `deploy` drops it.)
    ['a value outside its AllowedPattern', ['--parameter-overrides', 'AlarmEmail=ops@example.com', 'CustomerMailFrom=orders@shop.example', 'NamePrefix=Shop_1'], "Parameter 'NamePrefix' must match pattern ^[a-z0-9-]{0,20}$"],
    ['a required parameter left out', ['--parameter-overrides', 'CustomerMailFrom=orders@shop.example'], 'Parameters: [AlarmEmail] must have values'],
    ['CAPABILITY_IAM for named roles', ['--capabilities', 'CAPABILITY_IAM', '--parameter-overrides', 'AlarmEmail=ops@example.com', 'CustomerMailFrom=orders@shop.example'], 'Requires capabilities : [CAPABILITY_NAMED_IAM]'],
  ])('when a deploy sends %s, then the stand-in refuses it as CloudFormation would', async (_case, args, reason) => {
    const dir = workspace();
    dirs.push(dir);
    const capabilities = args.includes('--capabilities') ? [] : ['--capabilities', 'CAPABILITY_NAMED_IAM'];
    const deploy = ['aws', 'cloudformation', 'deploy', '--template-file', 'dist/cloudformation/backend.yaml', '--s3-bucket', DEPLOY_BUCKET, '--stack-name', 'refused', ...capabilities, ...args];
    const { status } = await run(dir, `aws s3 mb s3://${DEPLOY_BUCKET} || true\n${deploy.join(' ')}`);
    expect({ status: status === 0 ? 'succeeded' : 'failed', refused: standIn.refused }).toEqual({ status: 'failed', refused: [`CreateChangeSet refused: ${reason}`] });
  }, 120_000);

  it('when the frontend template grows past the 1 MB a template object may hold, then the same commands fail saying so', async () => {
    const dir = workspace();
    dirs.push(dir);
    const template = join(dir, 'cloudformation/frontend.yaml');
    writeFileSync(template, `${readFileSync(template, 'utf8')}\n# ${'x'.repeat(CLOUDFORMATION_LIMITS.templateObjectBytes)}\n`);
    const { status } = await run(dir);
    expect(status).not.toBe(0);
    expect(standIn.refused).toEqual([expect.stringMatching(/^CreateChangeSet order-pipeline-frontend: Template may not exceed 1048576 bytes/)]);
  }, 300_000);
});
