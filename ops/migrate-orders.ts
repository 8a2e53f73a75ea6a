// npm run migrate-orders -- [--prefix TEXT] [--region NAME] [--endpoint URL | --local]
// Once, after a deploy that adds the orders table's account-orders index: gives every order an account
// checked out before account_id existed its account_id, so "My orders" lists it (docs/data-model.md,
// who owns an order). Safe to run again: it writes only orders that still lack one.
// Exit 0 done, 1 failed (one line on stderr), 2 wrong usage.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseArgs } from 'node:util';
import { awsClientConfig } from '../backend-lambdas/lib/aws.js';
import { createOrderStore } from '../backend-lambdas/lib/order-store.js';
import { settings } from '../platform/settings.js';

const USAGE = `Usage: npm run migrate-orders -- [options]

Options:
  --prefix TEXT     name prefix of the deployment (Terraform's name_prefix; default none)
  --table NAME      the orders table (default <prefix>${settings.names.table}, as Terraform's default table_name)
  --region NAME     AWS region (default: $AWS_REGION or ${settings.region})
  --endpoint URL    a DynamoDB endpoint, such as an emulator (default: AWS)
  --local           the local stack (npm start): http://127.0.0.1:$DYNAMODB_PORT (default 8000)
`;

let values;
try {
  ({ values } = parseArgs({ options: { prefix: { type: 'string', default: '' }, table: { type: 'string' }, region: { type: 'string' }, endpoint: { type: 'string' }, local: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } }));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const local = values.local;
const endpoint = values.endpoint ?? (local ? `http://127.0.0.1:${process.env.DYNAMODB_PORT ?? '8000'}` : undefined);
const region = values.region ?? process.env.AWS_REGION ?? settings.region;
const tableName = values.table ?? `${values.prefix}${settings.names.table}`;
const dynamodb = new DynamoDBClient(awsClientConfig({ region, endpoint, ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}) }));
try {
  const migrated = await createOrderStore({ documents: DynamoDBDocumentClient.from(dynamodb), tableName }).migrateAccountOrders();
  console.log(`${tableName}: ${migrated} account order${migrated === 1 ? '' : 's'} given their account_id.`);
} catch (error) {
  const { name = 'Error', message = String(error) } = error as { name?: string; message?: string };
  console.error(`${tableName} at ${endpoint ?? `AWS ${region}`}: ${name}: ${message.split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  dynamodb.destroy();
}
