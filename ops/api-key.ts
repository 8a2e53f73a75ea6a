// npm run api-key -- create | rotate | retire KEY_ID | delete   — the web tier's API key, kept out of
// Terraform's state: run create after applying terraform-backend and before terraform-frontend.
// Exit 0 done, 1 failed or refused (one line on stderr), 2 wrong usage. No key value is ever printed.
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { awsClientConfig } from '../backend-lambdas/lib/aws.js';
import { settings } from '../platform/settings.js';
import { ApiKeyError, apiKeyTarget, createApiKey, deleteApiKeys, retireApiKey, rotateApiKey, type ApiKeyClients } from './api-keys.js';

const USAGE = `Usage: npm run api-key -- <create|rotate|retire KEY_ID|delete> [options]

  create          make the key, add it to the usage plan <prefix>order-web and write its value to the
                  SecureString /<prefix>order-pipeline/api-key; changes nothing if they are in place
  rotate          make a new key beside the old one and write it to the parameter; the old key keeps
                  working until it is retired, once every web instance has restarted
  retire KEY_ID   take an old key out of the usage plan and delete it (never the one the parameter holds)
  delete          delete every key <prefix>order-web and the parameter: before terraform destroy
                  (asks first, unless --yes)

Options:
  --prefix TEXT         name prefix of the deployment (Terraform's name_prefix; default none)
  --region NAME         AWS region (default: $AWS_REGION or ${settings.region})
  --endpoint URL        one endpoint for API Gateway and SSM, such as an emulator (default: AWS)
  --usage-plan-id ID    the usage plan (default: the one named <prefix>order-web)
  --yes                 delete without asking
`;

function usageError(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function failure(message: string): never {
  console.error(message);
  process.exit(1);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        prefix: { type: 'string', default: '' },
        region: { type: 'string' },
        endpoint: { type: 'string' },
        'usage-plan-id': { type: 'string' },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
})();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [command, keyId, ...extra] = positionals;
if (command !== 'create' && command !== 'rotate' && command !== 'retire' && command !== 'delete') usageError(`Unknown or missing command: ${command ?? '(none)'}`);
if (command === 'retire' && !keyId) usageError('retire needs the id of the key to retire (rotate prints it)');
if ((command !== 'retire' && keyId !== undefined) || extra.length > 0) usageError(`Unexpected argument: ${command === 'retire' ? extra[0] : keyId}`);
// Terraform's own rule for name_prefix, so the names are those the backend made.
if (!/^[a-z0-9-]{0,20}$/.test(values.prefix)) usageError('--prefix must be at most 20 characters of lower-case letters, digits and hyphens (as name_prefix)');
const region = values.region ?? process.env.AWS_REGION ?? settings.region;
if (!/^[a-z]{2}(-[a-z]+)+-[0-9]$/.test(region)) usageError(`--region must be a region code such as us-east-1, not ${region}`);
if (values.endpoint !== undefined && !URL.canParse(values.endpoint)) usageError(`--endpoint must be a URL, not ${values.endpoint}`);

const target = apiKeyTarget(values.prefix, values['usage-plan-id']);
const clientConfig = awsClientConfig({ region, endpoint: values.endpoint, requestTimeoutMs: 15_000 });
const clients: ApiKeyClients = { apiGateway: new APIGatewayClient(clientConfig), ssm: new SSMClient(clientConfig) };
/** The options that name this deployment, for the commands printed to run next. */
const where = `${values.prefix ? ` --prefix ${values.prefix}` : ''} --region ${region}${values.endpoint ? ` --endpoint ${values.endpoint}` : ''}`;

async function confirmDelete(): Promise<boolean> {
  if (values.yes) return true;
  if (!process.stdin.isTTY) usageError(`Refusing to delete ${target.keyName} and ${target.parameterName} without confirmation: run it in a terminal, or add --yes.`);
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(`Delete every API key named ${target.keyName} and ${target.parameterName}? The web tier is refused until a new key is made. Type "${target.keyName}" to confirm: `);
  prompt.close();
  return answer.trim() === target.keyName;
}

async function run(): Promise<void> {
  if (command === 'create') {
    const { outcome, keyId: id, usagePlanId } = await createApiKey(clients, target);
    const said: Record<typeof outcome, string> = {
      created: `Created API key ${id} (${target.keyName}), added it to usage plan ${usagePlanId} and wrote its value to ${target.parameterName} (SecureString, aws/ssm).`,
      unchanged: `Nothing changed: API key ${id} (${target.keyName}) is in usage plan ${usagePlanId} and ${target.parameterName} holds it.`,
      attached: `Added API key ${id} (${target.keyName}), which ${target.parameterName} holds, to usage plan ${usagePlanId}; nothing else changed.`,
      adopted: `Found API key ${id} (${target.keyName}) without its parameter (an interrupted create): it is in usage plan ${usagePlanId} and ${target.parameterName} now holds it.`,
    };
    console.log(said[outcome]);
  } else if (command === 'rotate') {
    const { keyId: id, usagePlanId, parameterVersion, previousKeyIds } = await rotateApiKey(clients, target);
    console.log(`Created API key ${id} (${target.keyName}), added it to usage plan ${usagePlanId} and wrote it to ${target.parameterName} (version ${String(parameterVersion ?? '?')}).`);
    if (previousKeyIds.length === 0) return;
    console.log(`The old key${previousKeyIds.length === 1 ? '' : 's'} (${previousKeyIds.join(', ')}) still work${previousKeyIds.length === 1 ? 's' : ''}. Web instances read the key when they start: restart them all (an instance refresh of the Auto Scaling group ${values.prefix}order-web), then retire:`);
    for (const old of previousKeyIds) console.log(`  npm run api-key -- retire ${old}${where}`);
  } else if (command === 'retire') {
    const { keyId: id, remainingKeyIds } = await retireApiKey(clients, target, keyId!);
    console.log(`Retired API key ${id}: out of the usage plan and deleted. Left: ${remainingKeyIds.join(', ') || 'none'}.`);
  } else {
    if (!(await confirmDelete())) failure('Nothing deleted.');
    const { deletedKeyIds, parameterDeleted } = await deleteApiKeys(clients, target);
    if (deletedKeyIds.length === 0 && !parameterDeleted) console.log(`Nothing to delete: no key named ${target.keyName}, no ${target.parameterName}.`);
    else console.log(`Deleted ${deletedKeyIds.length} API key${deletedKeyIds.length === 1 ? '' : 's'} (${deletedKeyIds.join(', ') || 'none'}) and ${parameterDeleted ? target.parameterName : `no parameter (${target.parameterName} did not exist)`}. terraform destroy may follow.`);
  }
}

try {
  await run();
} catch (error) {
  // ApiKeyError messages are one line without a key value; anything else is cut to its first line.
  failure(error instanceof ApiKeyError ? error.message : `${(error as Error).name ?? 'Error'}: ${String((error as Error).message ?? error).split('\n')[0]}`);
} finally {
  clients.apiGateway.destroy();
  clients.ssm.destroy();
}
