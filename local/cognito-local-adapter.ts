// The one adapter between the local stack and cognito-local's insides; test/unit/cognito-adapter.test.ts
// fails when cognito-local changes under it. cognito-local's entry point (`lib/index`) starts a
// server configured from `.cognito/config.json` in the working folder, listening where that file
// says and mailing codes to its console; the stack needs its data under the state folder, its codes
// in the outbox, its issuer at the address it listens on, ResendConfirmationCode, which 5.3 does
// not serve, and a confirmed address verified, as Cognito marks it. So this builds the server from
// cognito-local's own services (files of the package that it does not export as its API), and
// nothing else in local/ imports from cognito-local.
import { InvalidParameterError, UserNotFoundError } from 'cognito-local/lib/errors.js';
import type { Config } from 'cognito-local/lib/server/config.js';
import { Router, type Route } from 'cognito-local/lib/server/Router.js';
import { createServer as createCognitoServer } from 'cognito-local/lib/server/server.js';
import { CognitoServiceFactoryImpl } from 'cognito-local/lib/services/cognitoService.js';
import type { CryptoService } from 'cognito-local/lib/services/crypto.js';
import { StormDBDataStoreFactory } from 'cognito-local/lib/services/dataStore/stormDb.js';
import type { Services } from 'cognito-local/lib/services/index.js';
import { DateClock, TriggersService } from 'cognito-local/lib/services/index.js';
import type { Lambda, PreTokenGenerationTriggerResponse } from 'cognito-local/lib/services/lambda.js';
import type { Messages } from 'cognito-local/lib/services/messages.js';
import { otp } from 'cognito-local/lib/services/otp.js';
import { JwtTokenGenerator } from 'cognito-local/lib/services/tokenGenerator.js';
import { UserPoolServiceFactoryImpl } from 'cognito-local/lib/services/userPoolService.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** A code Cognito would mail (or text): what it is for, to whom, and the code. */
export interface CodeMail {
  /** Cognito's message source: SignUp, ResendCode, ForgotPassword, ... */
  source: string;
  userPoolId: string;
  username: string;
  code: string;
  medium: 'EMAIL' | 'SMS';
  destination: string;
}

export interface CognitoLocalOptions {
  /** Its users and pools are kept under `dataDir/db`. */
  dataDir: string;
  host: string;
  /** The tokens' issuer host (`iss` is `issuerDomain/<pool id>`): the address the listener is served at. */
  issuerDomain: string;
  logger: Logger;
  deliver: (mail: CodeMail) => Promise<void>;
}

/**
 * ResendConfirmationCode as Cognito does it, on the same services cognito-local's own SignUp uses:
 * a new code, delivered, saved on the user.
 */
function resendConfirmationCode({ cognito, messages, otp: newCode }: Services): Route {
  return async (ctx, req: { ClientId: string; Username: string; ClientMetadata?: Record<string, string> }) => {
    const userPool = await cognito.getUserPoolForClientId(ctx, req.ClientId);
    const user = await userPool.getUserByUsername(ctx, req.Username);
    if (!user) throw new UserNotFoundError();
    if (user.UserStatus !== 'UNCONFIRMED') throw new InvalidParameterError('User is already confirmed.');
    const email = user.Attributes.find((attribute) => attribute.Name === 'email')?.Value;
    if (!email) throw new InvalidParameterError('User has no attribute matching desired auto verified attributes');
    const delivery = { AttributeName: 'email' as const, DeliveryMedium: 'EMAIL' as const, Destination: email };
    const code = newCode();
    await messages.deliver(ctx, 'ResendCode', req.ClientId, userPool.options.Id, user, code, req.ClientMetadata, delivery);
    await userPool.saveUser(ctx, { ...user, ConfirmationCode: code });
    return { CodeDeliveryDetails: delivery };
  };
}

/**
 * ConfirmSignUp as Cognito does it: the code mailed to the address proves it, so Cognito marks it
 * verified (email is an auto-verified attribute of the pool); cognito-local confirms the account only.
 */
function confirmSignUp({ cognito }: Services, confirm: Route): Route {
  return async (ctx, req: { ClientId: string; Username: string }) => {
    const answer: unknown = await confirm(ctx, req);
    const userPool = await cognito.getUserPoolForClientId(ctx, req.ClientId);
    const user = await userPool.getUserByUsername(ctx, req.Username);
    if (user) await userPool.saveUser(ctx, { ...user, Attributes: [...user.Attributes.filter((attribute) => attribute.Name !== 'email_verified'), { Name: 'email_verified', Value: 'true' }] });
    return answer;
  };
}

/**
 * No Lambda triggers are configured on the pool, here as on AWS; but Cognito's ID token carries the
 * user's standard attributes (`name` among them) where cognito-local's carries email and custom ones
 * only. So its own pre token generation step adds them, as Cognito would have put them there.
 */
const STANDARD_CLAIMS = ['name', 'given_name', 'family_name', 'preferred_username', 'locale', 'zoneinfo'] as const;
const cognitoTokenClaims: Lambda = {
  enabled: (trigger) => trigger === 'PreTokenGeneration',
  // The PreTokenGeneration overload of invoke only: enabled() lets no other trigger be called.
  invoke: ((_ctx: unknown, trigger: string, event: { userAttributes: Record<string, string> }): Promise<PreTokenGenerationTriggerResponse> => {
    if (trigger !== 'PreTokenGeneration') return Promise.reject(new Error(`no ${trigger} Lambda trigger is configured on the local user pool`));
    const claims = Object.fromEntries(STANDARD_CLAIMS.flatMap((claim) => (event.userAttributes[claim] === undefined ? [] : [[claim, event.userAttributes[claim]]])));
    return Promise.resolve({ claimsOverrideDetails: { claimsToAddOrOverride: claims } });
  }) as unknown as Lambda['invoke'],
};

/** cognito-local's request listener on its data under `dataDir`, its codes handed to `deliver`. */
export async function cognitoLocalListener({ dataDir, host, issuerDomain, logger, deliver }: CognitoLocalOptions): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  const ctx = { logger };
  const clock = new DateClock();
  const dataStores = new StormDBDataStoreFactory(join(dataDir, 'db'));
  const cognito = await new CognitoServiceFactoryImpl(join(dataDir, 'db'), dataStores, new UserPoolServiceFactoryImpl(clock, dataStores)).create(ctx, {
    UsernameAttributes: ['email'],
  });
  const triggers = new TriggersService(clock, cognito, cognitoTokenClaims, {} as CryptoService);
  const config = {
    LambdaClient: {},
    TriggerFunctions: {},
    UserPoolDefaults: { UsernameAttributes: ['email'] },
    TokenConfig: { IssuerDomain: issuerDomain },
    KMSConfig: {},
    ServerConfig: { port: 0, hostname: host, development: false, https: false },
  } as Config;
  const messages: Messages = {
    deliver: (_ctx, source, _clientId, userPoolId, user, code, _metadata, delivery) =>
      deliver({ source, userPoolId, username: user.Username, code, medium: delivery.DeliveryMedium, destination: delivery.Destination }),
  };
  const services = { clock, cognito, config, messages, otp, tokenGenerator: new JwtTokenGenerator(clock, triggers, config.TokenConfig), triggers };
  const route = Router(services);
  const router = (target: string) => (target === 'ResendConfirmationCode' ? resendConfirmationCode(services) : target === 'ConfirmSignUp' ? confirmSignUp(services, route(target)) : route(target));
  return createCognitoServer(router, logger as never, config.ServerConfig, services).application as (req: IncomingMessage, res: ServerResponse) => void;
}
