// The web tier's API key, made and kept outside Terraform's state: API Gateway holds the key, the
// backend's usage plan lets it through (with its throttle), and an SSM SecureString encrypted with
// aws/ssm holds its value for the web tier. Nothing here returns, prints or puts a key's value in an
// error: results carry ids and names only.
import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeysCommand,
  GetUsagePlanKeysCommand,
  GetUsagePlansCommand,
  type APIGatewayClient,
} from '@aws-sdk/client-api-gateway';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { randomInt } from 'node:crypto';

/** Characters of a generated key: letters and digits only, which API Gateway and every shell accept. */
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 40 characters (API Gateway takes 20 to 128): about 238 bits. */
export const API_KEY_LENGTH = 40;

export interface ApiKeyClients {
  apiGateway: APIGatewayClient;
  ssm: SSMClient;
}

/** Where one deployment's key lives: the names Terraform's backend outputs as api_key_name and api_key_parameter_name. */
export interface ApiKeyTarget {
  /** Name of the key (of both keys, during a rotation) and of the usage plan: `<prefix>order-web`. */
  keyName: string;
  /** The SecureString the web tier reads at start: `/<prefix>order-pipeline/api-key`. */
  parameterName: string;
  /** The usage plan, when known; otherwise it is found by keyName. */
  usagePlanId?: string | undefined;
}

export type CreateOutcome = 'created' | 'unchanged' | 'attached' | 'adopted';

export interface CreateResult {
  /** created: a new key; unchanged: all in place; attached: the key was added to the plan; adopted: a key without its parameter got one. */
  outcome: CreateOutcome;
  keyId: string;
  usagePlanId: string;
}

export interface RotateResult {
  keyId: string;
  usagePlanId: string;
  parameterVersion: number | undefined;
  /** The keys the parameter no longer holds: they keep working until retired. */
  previousKeyIds: string[];
}

export interface RetireResult {
  keyId: string;
  /** Keys of that name left. */
  remainingKeyIds: string[];
}

export interface DeleteResult {
  deletedKeyIds: string[];
  parameterDeleted: boolean;
}

/** A refusal, or a failed call, in one line that never holds a key's value. */
export class ApiKeyError extends Error {
  override name = 'ApiKeyError';
}

/** The names of the deployment made with Terraform's name_prefix `prefix`. */
export function apiKeyTarget(prefix: string, usagePlanId?: string): ApiKeyTarget {
  return { keyName: `${prefix}order-web`, parameterName: `/${prefix}order-pipeline/api-key`, usagePlanId };
}

/** A new key value from node:crypto: API_KEY_LENGTH letters and digits, each drawn uniformly. */
export function generateApiKey(): string {
  let key = '';
  for (let i = 0; i < API_KEY_LENGTH; i += 1) key += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return key;
}

interface NamedKey {
  id: string;
  value: string;
  attached: boolean;
}

interface KeyState {
  usagePlanId: string;
  /** Every key with exactly the target's name, oldest first. */
  keys: NamedKey[];
  /** The parameter's decrypted value, or undefined when there is no parameter. */
  parameterValue: string | undefined;
  parameterType: string | undefined;
}

/** Runs one AWS call; a failure becomes an ApiKeyError naming the call, with every known key value blanked out. */
async function call<T>(what: string, secrets: readonly string[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiKeyError) throw error;
    const raw = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    let line = raw.split('\n')[0]!.trim();
    for (const secret of secrets) if (secret) line = line.split(secret).join('<key value>');
    throw new ApiKeyError(`${what} failed: ${line}`);
  }
}

async function findUsagePlanId(apiGateway: APIGatewayClient, target: ApiKeyTarget): Promise<string | undefined> {
  if (target.usagePlanId) return target.usagePlanId;
  const ids: string[] = [];
  let position: string | undefined;
  do {
    const page = await call('GetUsagePlans', [], () => apiGateway.send(new GetUsagePlansCommand({ limit: 500, position })));
    ids.push(...(page.items ?? []).filter((plan) => plan.name === target.keyName).map((plan) => plan.id!));
    position = page.position;
  } while (position);
  if (ids.length > 1) throw new ApiKeyError(`${ids.length} usage plans are named ${target.keyName} (${ids.join(', ')}): pass the right one with --usage-plan-id`);
  return ids[0];
}

async function requireUsagePlanId(apiGateway: APIGatewayClient, target: ApiKeyTarget): Promise<string> {
  const id = await findUsagePlanId(apiGateway, target);
  if (!id) throw new ApiKeyError(`No usage plan is named ${target.keyName} in this account and region: apply terraform-backend first (with the same name_prefix), or pass --usage-plan-id`);
  return id;
}

/** The keys, the plan's members and the parameter, as they are now. Values stay in `secrets` for redaction. */
async function readState({ apiGateway, ssm }: ApiKeyClients, target: ApiKeyTarget, usagePlanId: string | undefined, secrets: string[]): Promise<Omit<KeyState, 'usagePlanId'>> {
  const found: { id: string; value: string; created: number }[] = [];
  let position: string | undefined;
  do {
    // nameQuery matches by prefix: only the exact name is ours.
    const page = await call('GetApiKeys', secrets, () => apiGateway.send(new GetApiKeysCommand({ nameQuery: target.keyName, includeValues: true, limit: 500, position })));
    for (const key of page.items ?? []) {
      if (key.name !== target.keyName || !key.id) continue;
      found.push({ id: key.id, value: key.value ?? '', created: key.createdDate?.getTime() ?? 0 });
      if (key.value) secrets.push(key.value);
    }
    position = page.position;
  } while (position);

  const attached = new Set<string>();
  if (usagePlanId) {
    let keyPosition: string | undefined;
    do {
      const page = await call('GetUsagePlanKeys', secrets, () => apiGateway.send(new GetUsagePlanKeysCommand({ usagePlanId, limit: 500, position: keyPosition })));
      for (const key of page.items ?? []) if (key.id) attached.add(key.id);
      keyPosition = page.position;
    } while (keyPosition);
  }

  const parameter = await call('GetParameter', secrets, async () => {
    try {
      return (await ssm.send(new GetParameterCommand({ Name: target.parameterName, WithDecryption: true }))).Parameter;
    } catch (error) {
      if ((error as Error).name === 'ParameterNotFound') return undefined;
      throw error;
    }
  });
  if (parameter?.Value) secrets.push(parameter.Value);

  found.sort((a, b) => a.created - b.created);
  return { keys: found.map(({ id, value }) => ({ id, value, attached: attached.has(id) })), parameterValue: parameter ? (parameter.Value ?? '') : undefined, parameterType: parameter?.Type };
}

async function attach(apiGateway: APIGatewayClient, usagePlanId: string, keyId: string, secrets: readonly string[]): Promise<void> {
  await call('CreateUsagePlanKey', secrets, () => apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' })));
}

async function newKey(apiGateway: APIGatewayClient, target: ApiKeyTarget, usagePlanId: string, secrets: string[]): Promise<{ id: string; value: string }> {
  const value = generateApiKey();
  secrets.push(value);
  const created = await call('CreateApiKey', secrets, () =>
    apiGateway.send(
      new CreateApiKeyCommand({
        name: target.keyName,
        description: `The order web tier's key (x-api-key); made by npm run api-key, its value kept only in the SSM parameter ${target.parameterName}.`,
        enabled: true,
        value,
      }),
    ),
  );
  await attach(apiGateway, usagePlanId, created.id!, secrets);
  return { id: created.id!, value };
}

async function putParameter(ssm: SSMClient, target: ApiKeyTarget, keyId: string, value: string, overwrite: boolean, secrets: readonly string[]): Promise<number | undefined> {
  const { Version } = await call('PutParameter', secrets, () =>
    ssm.send(
      new PutParameterCommand({
        Name: target.parameterName,
        Description: `API Gateway key ${keyId} (${target.keyName}) of the order web tier; written by npm run api-key.`,
        // No KeyId: the account's AWS managed key for SSM, aws/ssm.
        Type: 'SecureString',
        Value: value,
        Overwrite: overwrite,
      }),
    ),
  );
  return Version;
}

/**
 * Makes the key, adds it to the usage plan and writes its value to the SecureString, unless they are
 * in place already (then nothing changes). Finishes an interrupted create: a lone key of that name
 * without a parameter is added to the plan and written to the parameter.
 */
export async function createApiKey(clients: ApiKeyClients, target: ApiKeyTarget): Promise<CreateResult> {
  const secrets: string[] = [];
  const usagePlanId = await requireUsagePlanId(clients.apiGateway, target);
  const { keys, parameterValue, parameterType } = await readState(clients, target, usagePlanId, secrets);

  if (parameterValue !== undefined) {
    const held = keys.find((key) => key.value === parameterValue);
    if (!held) throw new ApiKeyError(`${target.parameterName} holds a value that no key named ${target.keyName} has (was the key deleted?): run rotate to make a new key`);
    if (parameterType !== 'SecureString') throw new ApiKeyError(`${target.parameterName} is a ${String(parameterType)} parameter, not a SecureString: run rotate to write a new key as a SecureString`);
    if (held.attached) return { outcome: 'unchanged', keyId: held.id, usagePlanId };
    await attach(clients.apiGateway, usagePlanId, held.id, secrets);
    return { outcome: 'attached', keyId: held.id, usagePlanId };
  }
  if (keys.length > 1) {
    throw new ApiKeyError(`${keys.length} keys are named ${target.keyName} (${keys.map((key) => key.id).join(', ')}) and ${target.parameterName} does not exist: delete them, or retire all but one, then create again`);
  }
  if (keys.length === 1) {
    const [lone] = keys as [NamedKey];
    if (!lone.attached) await attach(clients.apiGateway, usagePlanId, lone.id, secrets);
    await putParameter(clients.ssm, target, lone.id, lone.value, false, secrets);
    return { outcome: 'adopted', keyId: lone.id, usagePlanId };
  }
  const created = await newKey(clients.apiGateway, target, usagePlanId, secrets);
  await putParameter(clients.ssm, target, created.id, created.value, false, secrets);
  return { outcome: 'created', keyId: created.id, usagePlanId };
}

/**
 * Makes a new key beside the old one, adds it to the usage plan and overwrites the parameter with it.
 * The old key stays in the plan, so the instances that read it keep working until they restart.
 */
export async function rotateApiKey(clients: ApiKeyClients, target: ApiKeyTarget): Promise<RotateResult> {
  const secrets: string[] = [];
  const usagePlanId = await requireUsagePlanId(clients.apiGateway, target);
  const { keys, parameterValue } = await readState(clients, target, usagePlanId, secrets);
  if (parameterValue === undefined) throw new ApiKeyError(`${target.parameterName} does not exist: nothing to rotate (run create)`);
  const created = await newKey(clients.apiGateway, target, usagePlanId, secrets);
  const parameterVersion = await putParameter(clients.ssm, target, created.id, created.value, true, secrets);
  return { keyId: created.id, usagePlanId, parameterVersion, previousKeyIds: keys.map((key) => key.id) };
}

/** Removes an old key from the usage plan and deletes it; refuses the key the parameter holds and keys of another name. */
export async function retireApiKey(clients: ApiKeyClients, target: ApiKeyTarget, keyId: string): Promise<RetireResult> {
  const secrets: string[] = [];
  const usagePlanId = await findUsagePlanId(clients.apiGateway, target);
  const { keys, parameterValue } = await readState(clients, target, usagePlanId, secrets);
  const key = keys.find((candidate) => candidate.id === keyId);
  if (!key) throw new ApiKeyError(`No key ${keyId} is named ${target.keyName}: nothing retired (the keys of that name: ${keys.map((candidate) => candidate.id).join(', ') || 'none'})`);
  if (parameterValue !== undefined && key.value === parameterValue) {
    throw new ApiKeyError(`Key ${keyId} is the one ${target.parameterName} holds, which the web tier uses: rotate first, then retire the old key`);
  }
  if (usagePlanId && key.attached) {
    await call('DeleteUsagePlanKey', secrets, () => clients.apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId })));
  }
  await call('DeleteApiKey', secrets, () => clients.apiGateway.send(new DeleteApiKeyCommand({ apiKey: keyId })));
  return { keyId, remainingKeyIds: keys.filter((candidate) => candidate.id !== keyId).map((candidate) => candidate.id) };
}

/** Deletes every key of the target's name (out of the usage plan first) and the parameter: what to run before `terraform destroy`. */
export async function deleteApiKeys(clients: ApiKeyClients, target: ApiKeyTarget): Promise<DeleteResult> {
  const secrets: string[] = [];
  // The plan may be gone already (a destroy that ran first): the keys and the parameter still go.
  const usagePlanId = await findUsagePlanId(clients.apiGateway, target);
  const { keys, parameterValue } = await readState(clients, target, usagePlanId, secrets);
  for (const key of keys) {
    if (usagePlanId && key.attached) {
      await call('DeleteUsagePlanKey', secrets, () => clients.apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId: key.id })));
    }
    await call('DeleteApiKey', secrets, () => clients.apiGateway.send(new DeleteApiKeyCommand({ apiKey: key.id })));
  }
  if (parameterValue !== undefined) await call('DeleteParameter', secrets, () => clients.ssm.send(new DeleteParameterCommand({ Name: target.parameterName })));
  return { deletedKeyIds: keys.map((key) => key.id), parameterDeleted: parameterValue !== undefined };
}
