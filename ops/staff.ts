// npm run staff -- add|remove EMAIL [--prefix TEXT] [--region NAME] [--endpoint URL | --local]
// Makes an account a member of the shop's staff (the user pool's staff group), or no longer one.
// The account must exist (signed up and confirmed). The change reaches the shop at the member's
// next sign-in or token refresh (an hour at most): the group travels in the ID token.
// Exit 0 done, 1 failed (one line on stderr), 2 wrong usage.
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { parseArgs } from 'node:util';
import { awsClientConfig } from '../backend-lambdas/lib/aws.js';
import { settings } from '../platform/settings.js';
import { setStaffMember } from './staff-members.js';

const USAGE = `Usage: npm run staff -- <add|remove> EMAIL [options]

  add EMAIL         make the account with this address a member of the staff (the /staff pages)
  remove EMAIL      take it out of the staff

Options:
  --prefix TEXT     name prefix of the deployment (Terraform's name_prefix; default none)
  --region NAME     AWS region (default: $AWS_REGION or ${settings.region})
  --endpoint URL    a Cognito endpoint, such as an emulator (default: AWS)
  --local           the local stack (npm start): http://127.0.0.1:$COGNITO_PORT (default 9229)
`;

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { prefix: { type: 'string', default: '' }, region: { type: 'string' }, endpoint: { type: 'string' }, local: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [action, email, ...extra] = positionals;
if ((action !== 'add' && action !== 'remove') || !email || extra.length > 0) {
  console.error(`${action === undefined ? 'Say add or remove, and the address' : `Expected add|remove EMAIL, got: ${positionals.join(' ')}`}\n\n${USAGE}`);
  process.exit(2);
}

const local = values.local;
const endpoint = values.endpoint ?? (local ? `http://127.0.0.1:${process.env.COGNITO_PORT ?? '9229'}` : undefined);
const region = values.region ?? process.env.AWS_REGION ?? settings.region;
const poolName = `${values.prefix}${settings.accounts.userPool.name}`;
const cognito = new CognitoIdentityProviderClient(awsClientConfig({ region, endpoint, ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}) }));
try {
  const changed = await setStaffMember(cognito, { poolName, email, member: action === 'add' });
  console.log(`${email}: ${action === 'add' ? (changed ? 'now a member of the staff' : 'already a member of the staff') : changed ? 'no longer a member of the staff' : 'was not a member of the staff'} (${poolName}). It takes effect at their next sign-in or within the hour.`);
} catch (error) {
  const { name = 'Error', message = String(error) } = error as { name?: string; message?: string };
  console.error(`${poolName} at ${endpoint ?? `AWS ${region}`}: ${name}: ${message.split('\n')[0]}`);
  process.exitCode = 1;
} finally {
  cognito.destroy();
}
