// local/cognito-local-adapter.ts builds cognito-local from its services (files it does not export as
// its API). What the local stack relies on is asserted here against cognito-local itself, so an
// upgrade that changes one of them fails here by name: its data where it is told, each code handed
// to the stack's outbox, the issuer at the stack's address, the standard claims Cognito's ID token has, and the ResendConfirmationCode it lacks.
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  ListUserPoolsCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cognitoLocalListener, type CodeMail } from '../../local/cognito-local-adapter.js';
import { silentLogger } from '../helpers/loggers.js';

let dir: string;
let server: Server;
let endpoint: string;
const mails: CodeMail[] = [];

async function serve(): Promise<CognitoIdentityProviderClient> {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const listener = await cognitoLocalListener({ dataDir: dir, host: '127.0.0.1', issuerDomain: endpoint, logger: silentLogger(), deliver: (mail) => Promise.resolve(void mails.push(mail)) });
  server.on('request', listener);
  return new CognitoIdentityProviderClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

async function stop(client: CognitoIdentityProviderClient): Promise<void> {
  client.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cognito-adapter-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the cognito-local adapter', () => {
  it('when a customer signs up, asks for the code again and confirms with the second, then each code reaches deliver, the first no longer works, and the ID token is issued at the given address with the name signed up with', async () => {
    const client = await serve();
    try {
      const { UserPool } = await client.send(new CreateUserPoolCommand({ PoolName: 'adapter-pool', UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'] }));
      const { UserPoolClient } = await client.send(new CreateUserPoolClientCommand({ UserPoolId: UserPool!.Id!, ClientName: 'adapter-client', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }));
      const clientId = UserPoolClient!.ClientId!;
      const email = 'ada@example.com';
      await client.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Correct-horse-9', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: 'Ada <Lovelace>' }] }));
      await client.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }));
      expect(mails.map(({ source, userPoolId, medium, destination }) => ({ source, userPoolId, medium, destination }))).toEqual([
        { source: 'SignUp', userPoolId: UserPool!.Id, medium: 'EMAIL', destination: email },
        { source: 'ResendCode', userPoolId: UserPool!.Id, medium: 'EMAIL', destination: email },
      ]);
      const [first, second] = mails.map((mail) => mail.code);
      expect(first).not.toBe(second);
      await expect(client.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: first! }))).rejects.toMatchObject({ name: 'CodeMismatchException' });
      await client.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: second! }));
      await expect(client.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
      const { AuthenticationResult } = await client.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: 'Correct-horse-9' } }));
      const claims = JSON.parse(Buffer.from(AuthenticationResult!.IdToken!.split('.')[1]!, 'base64url').toString('utf8')) as { iss: string; email: string; name: string; email_verified: boolean };
      // The name as Cognito's own ID token carries it: the shop greets the customer with it.
      // Confirmed by the mailed code, the address is verified, as Cognito marks it.
      expect(claims).toMatchObject({ iss: `${endpoint}/${UserPool!.Id}`, email, name: 'Ada <Lovelace>', email_verified: true });
    } finally {
      await stop(client);
    }
  });

  it('when it is started again on the same folder, then a pool made before is there, kept under that folder\'s db', async () => {
    const first = await serve();
    try {
      await first.send(new CreateUserPoolCommand({ PoolName: 'kept-pool' }));
    } finally {
      await stop(first);
    }
    expect(readdirSync(join(dir, 'db'))).toEqual(expect.arrayContaining(['clients.json']));
    const again = await serve();
    try {
      const { UserPools = [] } = await again.send(new ListUserPoolsCommand({ MaxResults: 10 }));
      expect(UserPools.map((pool) => pool.Name)).toContain('kept-pool');
    } finally {
      await stop(again);
    }
  });
});
