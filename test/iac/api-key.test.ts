// The API key tool (ops/api-keys.ts and its command ops/api-key.ts) against moto: what each command
// leaves in API Gateway and SSM, and that no key value reaches its output. Each test makes its own
// deployment (a usage plan under a name prefix of its own) on one moto server.
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  GetApiKeysCommand,
  GetUsagePlanKeysCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { API_KEY_LENGTH, ApiKeyError, apiKeyTarget, createApiKey, deleteApiKeys, generateApiKey, retireApiKey, rotateApiKey, type ApiKeyClients, type ApiKeyTarget } from '../../ops/api-keys.js';
import { gate } from '../helpers/requirements.js';
import { MOTO_CREDENTIALS, motoMissing, startMoto, type Moto } from './moto.js';
import { repoRoot, runCommand } from './terraform-cli.js';

const REGION = 'us-east-1';
const onMoto = gate('the API key tool against moto', motoMissing());
let moto: Moto | undefined;

beforeAll(async () => {
  if (!motoMissing()) moto = await startMoto();
}, 60_000);

afterAll(() => moto?.stop());

const clientsAt = (endpoint: string): ApiKeyClients => {
  const config = { endpoint, region: REGION, credentials: MOTO_CREDENTIALS };
  return { apiGateway: new APIGatewayClient(config), ssm: new SSMClient(config) };
};

interface Deployment {
  prefix: string;
  target: ApiKeyTarget;
  usagePlanId: string;
  clients: ApiKeyClients;
}

/** A usage plan as terraform-backend makes it, under a prefix of the test's own. */
async function newDeployment(): Promise<Deployment> {
  const prefix = `t${randomBytes(4).toString('hex')}-`;
  const target = apiKeyTarget(prefix);
  const clients = clientsAt(moto!.endpoint);
  const plan = await clients.apiGateway.send(new CreateUsagePlanCommand({ name: target.keyName, throttle: { rateLimit: 100, burstLimit: 200 } }));
  return { prefix, target, usagePlanId: plan.id!, clients };
}

/** The keys of exactly that name, with their values (moto matches names by prefix). */
async function keysOf({ clients, target }: Deployment): Promise<{ id: string; value: string; enabled: boolean }[]> {
  const { items = [] } = await clients.apiGateway.send(new GetApiKeysCommand({ nameQuery: target.keyName, includeValues: true }));
  return items.filter((key) => key.name === target.keyName).map((key) => ({ id: key.id!, value: key.value!, enabled: key.enabled === true }));
}

async function planKeyIds({ clients, usagePlanId }: Deployment): Promise<string[]> {
  const { items = [] } = await clients.apiGateway.send(new GetUsagePlanKeysCommand({ usagePlanId }));
  return items.map((key) => key.id!).sort();
}

/** The parameter decrypted, with the KMS key it names; undefined when it does not exist. */
async function parameterOf({ clients, target }: Deployment): Promise<{ type: string; value: string; version: number; kmsKey: string | undefined } | undefined> {
  try {
    const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: target.parameterName, WithDecryption: true }));
    const { Parameters = [] } = await clients.ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [target.parameterName] }] }));
    return { type: Parameter!.Type!, value: Parameter!.Value!, version: Parameter!.Version!, kmsKey: Parameters[0]?.KeyId };
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('generateApiKey', () => {
  it('when keys are generated, then each is 40 letters and digits and no two are alike', () => {
    const keys = Array.from({ length: 1000 }, () => generateApiKey());
    expect(API_KEY_LENGTH).toBe(40);
    expect(keys.every((key) => /^[A-Za-z0-9]{40}$/.test(key))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('a failed AWS call', () => {
  it('when the service echoes the new key in its error, then the error is one line without the value', async () => {
    const apiGateway = new APIGatewayClient({ region: REGION, credentials: MOTO_CREDENTIALS });
    const ssm = new SSMClient({ region: REGION, credentials: MOTO_CREDENTIALS });
    const target = apiKeyTarget('echo-');
    const gateway = mockClient(apiGateway);
    gateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan1', name: target.keyName }] });
    gateway.on(GetApiKeysCommand).resolves({ items: [] });
    gateway.on(GetUsagePlanKeysCommand).resolves({ items: [] });
    let sent = '';
    gateway.on(CreateApiKeyCommand).callsFake((input: { value?: string }) => {
      sent = input.value ?? '';
      throw Object.assign(new Error(`Key ${sent} is not accepted\nsecond line ${sent}`), { name: 'BadRequestException' });
    });
    mockClient(ssm).on(GetParameterCommand).rejects(Object.assign(new Error('Parameter not found'), { name: 'ParameterNotFound' }));

    const error = await rejection(createApiKey({ apiGateway, ssm }, target));
    expect(sent).toHaveLength(API_KEY_LENGTH);
    expect(error).toBeInstanceOf(ApiKeyError);
    expect(error.message).toBe('CreateApiKey failed: BadRequestException: Key <key value> is not accepted');
  });
});

onMoto.describe('the API key tool on moto', () => {
  it('when create runs on a new deployment, then one enabled key of its name is in the usage plan and an aws/ssm SecureString holds its value', async () => {
    const deployment = await newDeployment();
    const result = await createApiKey(deployment.clients, deployment.target);

    const keys = await keysOf(deployment);
    expect(keys).toHaveLength(1);
    expect(result).toEqual({ outcome: 'created', keyId: keys[0]!.id, usagePlanId: deployment.usagePlanId });
    expect(keys[0]!.enabled).toBe(true);
    expect(keys[0]!.value).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(await planKeyIds(deployment)).toEqual([keys[0]!.id]);
    expect(await parameterOf(deployment)).toEqual({ type: 'SecureString', value: keys[0]!.value, version: 1, kmsKey: 'alias/aws/ssm' });
    expect(deployment.target.parameterName).toBe(`/${deployment.prefix}order-pipeline/api-key`);
  }, 30_000);

  it('when create runs a second time, then nothing changes and it says so', async () => {
    const deployment = await newDeployment();
    const first = await createApiKey(deployment.clients, deployment.target);
    const second = await createApiKey(deployment.clients, deployment.target);

    expect(second).toEqual({ outcome: 'unchanged', keyId: first.keyId, usagePlanId: deployment.usagePlanId });
    expect((await keysOf(deployment)).map((key) => key.id)).toEqual([first.keyId]);
    expect(await planKeyIds(deployment)).toEqual([first.keyId]);
    expect((await parameterOf(deployment))?.version).toBe(1);
  }, 30_000);

  it('when a key of the name exists without its parameter (an interrupted create), then create adds it to the plan and writes the parameter', async () => {
    const deployment = await newDeployment();
    const value = generateApiKey();
    const { id } = await deployment.clients.apiGateway.send(new CreateApiKeyCommand({ name: deployment.target.keyName, enabled: true, value }));

    expect(await createApiKey(deployment.clients, deployment.target)).toEqual({ outcome: 'adopted', keyId: id, usagePlanId: deployment.usagePlanId });
    expect(await planKeyIds(deployment)).toEqual([id]);
    expect((await parameterOf(deployment))?.value).toBe(value);
  }, 30_000);

  it('when the parameter holds a value no key has, then create refuses without naming the value, and rotate repairs it', async () => {
    const deployment = await newDeployment();
    const stray = generateApiKey();
    await deployment.clients.ssm.send(new PutParameterCommand({ Name: deployment.target.parameterName, Type: 'SecureString', Value: stray }));

    const error = await rejection(createApiKey(deployment.clients, deployment.target));
    expect(error).toBeInstanceOf(ApiKeyError);
    expect(error.message).toContain('run rotate');
    expect(error.message).not.toContain(stray);
    const rotated = await rotateApiKey(deployment.clients, deployment.target);
    expect(rotated.previousKeyIds).toEqual([]);
    expect((await createApiKey(deployment.clients, deployment.target)).outcome).toBe('unchanged');
  }, 30_000);

  it('when rotate runs, then both keys are in the usage plan and the parameter holds the new one', async () => {
    const deployment = await newDeployment();
    const { keyId: oldId } = await createApiKey(deployment.clients, deployment.target);
    const rotated = await rotateApiKey(deployment.clients, deployment.target);

    expect({ ...rotated, keyId: rotated.keyId === oldId ? '<the old key>' : '<a new key>' }).toEqual({ keyId: '<a new key>', usagePlanId: deployment.usagePlanId, parameterVersion: 2, previousKeyIds: [oldId] });
    expect(await planKeyIds(deployment)).toEqual([oldId, rotated.keyId].sort());
    const keys = await keysOf(deployment);
    const parameter = await parameterOf(deployment);
    expect(parameter).toMatchObject({ type: 'SecureString', value: keys.find((key) => key.id === rotated.keyId)!.value, version: 2 });
    expect(keys.find((key) => key.id === oldId)!.value).not.toBe(parameter!.value);
  }, 30_000);

  it('when the old key is retired after a rotation, then one key is left, the new one; the key the parameter holds and keys of other names are refused', async () => {
    const deployment = await newDeployment();
    const { keyId: oldId } = await createApiKey(deployment.clients, deployment.target);
    const { keyId: newId } = await rotateApiKey(deployment.clients, deployment.target);
    const current = (await parameterOf(deployment))!.value;

    const refused = await rejection(retireApiKey(deployment.clients, deployment.target, newId));
    expect(refused).toBeInstanceOf(ApiKeyError);
    expect(refused.message).toContain('rotate first');
    expect(refused.message).not.toContain(current);
    const other = await newDeployment();
    const { keyId: otherId } = await createApiKey(other.clients, other.target);
    expect(await rejection(retireApiKey(deployment.clients, deployment.target, otherId))).toBeInstanceOf(ApiKeyError);
    expect((await keysOf(other)).map((key) => key.id)).toEqual([otherId]);

    expect(await retireApiKey(deployment.clients, deployment.target, oldId)).toEqual({ keyId: oldId, remainingKeyIds: [newId] });
    expect((await keysOf(deployment)).map((key) => key.id)).toEqual([newId]);
    expect(await planKeyIds(deployment)).toEqual([newId]);
    expect((await parameterOf(deployment))?.value).toBe(current);
  }, 30_000);

  it('when delete runs, then no key of the name is left, none in the usage plan, and no parameter; a second delete finds nothing', async () => {
    const deployment = await newDeployment();
    const { keyId: oldId } = await createApiKey(deployment.clients, deployment.target);
    const { keyId: newId } = await rotateApiKey(deployment.clients, deployment.target);

    const deleted = await deleteApiKeys(deployment.clients, deployment.target);
    expect({ ...deleted, deletedKeyIds: [...deleted.deletedKeyIds].sort() }).toEqual({ deletedKeyIds: [oldId, newId].sort(), parameterDeleted: true });
    expect(await keysOf(deployment)).toEqual([]);
    expect(await planKeyIds(deployment)).toEqual([]);
    expect(await parameterOf(deployment)).toBeUndefined();
    expect(await deleteApiKeys(deployment.clients, deployment.target)).toEqual({ deletedKeyIds: [], parameterDeleted: false });
  }, 30_000);

  it('when there is no usage plan of the name, then create fails in one line that says to apply the backend first', async () => {
    const clients = clientsAt(moto!.endpoint);
    const error = await rejection(createApiKey(clients, apiKeyTarget(`t${randomBytes(4).toString('hex')}-`)));
    expect(error).toBeInstanceOf(ApiKeyError);
    expect(error.message).toMatch(/^No usage plan is named t[0-9a-f]{8}-order-web .*apply terraform-backend first/);
    expect(error.message).not.toContain('\n');
  }, 30_000);

  it('when npm run api-key is run, then it says what it did without the key, fails in one line with exit 1, and exits 2 on wrong usage', async () => {
    const deployment = await newDeployment();
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const tool = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', join(repoRoot, 'ops', 'api-key.ts'), ...args], { cwd: repoRoot, env, timeoutMs: 30_000 });
    const at = ['--prefix', deployment.prefix, '--region', REGION, '--endpoint', moto!.endpoint];

    const created = await tool('create', ...at);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    const [key] = await keysOf(deployment);
    expect(created.stdout).toBe(`Created API key ${key!.id} (${deployment.target.keyName}), added it to usage plan ${deployment.usagePlanId} and wrote its value to ${deployment.target.parameterName} (SecureString, aws/ssm).\n`);
    const again = await tool('create', ...at);
    expect(again.stdout).toMatch(/^Nothing changed: /);
    const rotated = await tool('rotate', ...at);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(`  npm run api-key -- retire ${key!.id} --prefix ${deployment.prefix} --region ${REGION} --endpoint ${moto!.endpoint}\n`);
    const current = (await parameterOf(deployment))!.value;
    const newId = (await keysOf(deployment)).find((candidate) => candidate.value === current)!.id;
    const refused = await tool('retire', newId, ...at);
    expect({ code: refused.code, stdout: refused.stdout, lines: refused.stderr.trim().split('\n').length }).toEqual({ code: 1, stdout: '', lines: 1 });
    const unconfirmed = await tool('delete', ...at);
    expect(unconfirmed.code).toBe(2);
    expect((await keysOf(deployment)).length).toBe(2);
    const deleted = await tool('delete', '--yes', ...at);
    expect(deleted.code).toBe(0);
    expect(await keysOf(deployment)).toEqual([]);
    for (const result of [created, again, rotated, refused, unconfirmed, deleted]) {
      for (const value of [key!.value, current]) expect(`${result.stdout}${result.stderr}`).not.toContain(value);
    }
    expect((await tool()).code).toBe(2);
    expect((await tool('create', '--prefix', 'Not_A_Prefix')).code).toBe(2);
  }, 120_000);
});
