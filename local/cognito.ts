import {
  CreateGroupCommand,
  type CreateGroupCommandInput,
  ListGroupsCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  type CreateUserPoolClientCommandInput,
  type CreateUserPoolCommandInput,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { UserPoolRef } from '../frontend/id-token.js';
import { isAllowedHost, type HostRule } from '../frontend/request-origin.js';
import { settings, type Settings } from '../platform/settings.js';
import { cognitoLocalListener, type CodeMail } from './cognito-local-adapter.js';
import type { Emulator } from './emulators.js';
import type { Outbox } from './outbox.js';

/** The customers' pool as cognito-local serves it: the same three facts the web tier is configured with. */
export type LocalUserPool = UserPoolRef;

export interface CognitoEmulator extends Emulator, LocalUserPool {}

/** What each of Cognito's messages says, as its default templates do. */
const SUBJECTS: Record<string, string> = {
  SignUp: 'Your verification code',
  ResendCode: 'Your verification code',
  ForgotPassword: 'Your password reset code',
  AdminCreateUser: 'Your temporary password',
  UpdateUserAttribute: 'Your verification code',
  VerifyUserAttribute: 'Your verification code',
  Authentication: 'Your sign-in code',
};

/** Cognito's code mails, to the outbox; each code is a new mail, so each has its own key. */
function toOutbox(outbox: Outbox, logger: Logger): (mail: CodeMail) => Promise<void> {
  return async ({ source, userPoolId, username, code, medium, destination }) => {
    if (medium !== 'EMAIL') {
      logger.warn({ source, medium }, 'cognito: only email codes are delivered locally');
      return;
    }
    const subject = SUBJECTS[source] ?? 'Your code';
    await outbox.send(
      {
        from: 'no-reply@verificationemail.com',
        to: destination,
        subject,
        text: `${subject} is ${code}`,
        headers: { 'X-Cognito-Code': code },
      },
      { key: `cognito:${userPoolId}:${username}:${source}:${code}:${Date.now()}`, source: 'cognito' },
    );
  };
}

/**
 * Refuses what an AWS SDK would not send. Cognito's sign-up and sign-in calls are unsigned, so
 * unlike the other emulators a signature is not asked for: only no Origin (no web page) and a local
 * host name (no DNS rebinding). The JWKS is public on AWS too.
 */
function refusal(req: IncomingMessage, hosts: readonly HostRule[]): string | undefined {
  if (req.headers.origin !== undefined) return 'Requests from web pages (with an Origin header) are refused: this emulator is for AWS SDKs.';
  if (!isAllowedHost(req.headers.host, hosts, req.socket.localPort)) return `Host ${req.headers.host ?? '(none)'} is not a local host name (see ALLOWED_HOSTS).`;
  return undefined;
}

/**
 * cognito-local in this process, with its data under `dataDir` and its codes mailed to the outbox,
 * and the customers' user pool and app client made as Terraform makes them (found again by name
 * after a restart, so accounts survive it).
 */
export async function startCognito({ host, port, dataDir, outbox, logger, hosts }: { host: string; port: number; dataDir: string; outbox: Outbox; logger: Logger; hosts: readonly HostRule[] }): Promise<CognitoEmulator> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const endpoint = `http://${host}:${(server.address() as AddressInfo).port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  try {
    // Its warnings (every wrong password) only when the stack's own level shows warnings: a silent stack stays silent.
    const cognitoLogger = logger.child({ service: 'cognito-local' }, { level: logger.isLevelEnabled('debug') ? 'debug' : logger.isLevelEnabled('warn') ? 'warn' : logger.level });
    // The issuer is the address it listens on, known only now.
    const app = await cognitoLocalListener({ dataDir, host, issuerDomain: endpoint, logger: cognitoLogger, deliver: toOutbox(outbox, logger) });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const reason = refusal(req, hosts);
      if (!reason) return app(req, res);
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`Forbidden. ${reason}\n`);
    });
    const pool = await ensureUserPool(endpoint);
    return { endpoint, ...pool, issuer: `${endpoint}/${pool.userPoolId}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The customers' user pool as the local stack creates it; the parity test compares it with Terraform's and CloudFormation's. */
export function userPoolDefinition(pool: Settings['accounts']['userPool'] = settings.accounts.userPool): CreateUserPoolCommandInput {
  return {
    PoolName: pool.name,
    UsernameAttributes: ['email'],
    AutoVerifiedAttributes: ['email'],
    Policies: { PasswordPolicy: { ...pool.passwordPolicy } },
  };
}

/** The web tier's app client as the local stack creates it (no secret: GenerateSecret is left out, false). */
export function appClientDefinition(userPoolId: string, pool: Settings['accounts']['userPool'] = settings.accounts.userPool): CreateUserPoolClientCommandInput {
  return {
    UserPoolId: userPoolId,
    ClientName: pool.clientName,
    ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    // cognito-local ignores it (the web tier answers alike for known and unknown addresses itself); Cognito honours it.
    PreventUserExistenceErrors: 'ENABLED',
    IdTokenValidity: pool.idTokenValidityMinutes,
    AccessTokenValidity: pool.idTokenValidityMinutes,
    RefreshTokenValidity: pool.refreshTokenValidityDays,
    TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'days' },
  };
}

/** The staff's group in the pool (npm run staff adds members), as Terraform and CloudFormation make it. */
export function staffGroupDefinition(userPoolId: string): CreateGroupCommandInput {
  return { UserPoolId: userPoolId, GroupName: settings.accounts.staffGroup, Description: "The shop's staff: the /staff pages and routes are theirs." };
}

/** The customers' pool, the web tier's app client and the staff group, as Terraform declares them; made once. */
async function ensureUserPool(endpoint: string): Promise<Omit<LocalUserPool, 'issuer'>> {
  const client = new CognitoIdentityProviderClient({ endpoint, region: settings.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const { userPool: pool } = settings.accounts;
  try {
    const { UserPools = [] } = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
    let userPoolId = UserPools.find((candidate) => candidate.Name === pool.name)?.Id;
    userPoolId ??= (await client.send(new CreateUserPoolCommand(userPoolDefinition()))).UserPool!.Id!;
    const { UserPoolClients = [] } = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
    let clientId = UserPoolClients.find((candidate) => candidate.ClientName === pool.clientName)?.ClientId;
    clientId ??= (await client.send(new CreateUserPoolClientCommand(appClientDefinition(userPoolId)))).UserPoolClient!.ClientId!;
    const { Groups = [] } = await client.send(new ListGroupsCommand({ UserPoolId: userPoolId, Limit: 60 }));
    if (!Groups.some((group) => group.GroupName === settings.accounts.staffGroup)) await client.send(new CreateGroupCommand(staffGroupDefinition(userPoolId)));
    return { userPoolId, clientId };
  } finally {
    client.destroy();
  }
}
