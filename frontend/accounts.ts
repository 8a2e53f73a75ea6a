import {
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  RevokeTokenCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { AppError, DependencyUnavailableError, type FieldIssue } from '../domain/errors.js';

/** What a sign-in gives the web tier to keep in the session cookies. */
export interface SignInTokens {
  idToken: string;
  refreshToken: string;
}

/** Cognito refused what the customer typed; `issues` says which field and why, in words for them. */
export class AccountFormError extends AppError {
  constructor(
    readonly issues: readonly FieldIssue[],
    /** 401 for a wrong password, 400 for everything else a customer can fix. */
    readonly status: 400 | 401 = 400,
  ) {
    super('validation_error', issues.map((issue) => issue.message).join(' '));
  }
}

/** The account pages' calls to the user pool; each Cognito refusal becomes an AccountFormError naming the field. */
export interface Accounts {
  signUp(input: { email: string; password: string; name: string }): Promise<void>;
  confirmSignUp(input: { email: string; code: string }): Promise<void>;
  signIn(input: { email: string; password: string }): Promise<SignInTokens>;
  /** A new ID token for a session's refresh token; undefined once the refresh token is revoked or expired. */
  refresh(refreshToken: string): Promise<string | undefined>;
  /** Ends the refresh token (RevokeToken): the session cannot be renewed from a stolen copy of the cookie. */
  revoke(refreshToken: string): Promise<void>;
  forgotPassword(email: string): Promise<void>;
  confirmForgotPassword(input: { email: string; code: string; password: string }): Promise<void>;
}

const PASSWORD_RULES = 'Use at least 8 characters with an upper-case letter, a lower-case letter and a number.';

/** Cognito's exception names, as customers should read them (and which field they are about). */
function refusal(error: unknown): AccountFormError | undefined {
  const name = (error as { name?: unknown }).name;
  switch (name) {
    case 'UsernameExistsException':
      return new AccountFormError([{ field: 'email', message: 'An account with this email already exists: sign in, or reset its password.' }]);
    case 'InvalidPasswordException':
      return new AccountFormError([{ field: 'password', message: PASSWORD_RULES }]);
    case 'CodeMismatchException':
      return new AccountFormError([{ field: 'code', message: 'That code is not the one we sent. Check the mail and type it again.' }]);
    case 'ExpiredCodeException':
      return new AccountFormError([{ field: 'code', message: 'That code has expired: ask for a new one.' }]);
    case 'UserNotFoundException':
      return new AccountFormError([{ field: 'email', message: 'There is no account with this email.' }]);
    case 'UserNotConfirmedException':
      return new AccountFormError([{ field: 'email', message: 'This account is not confirmed yet: enter the code we mailed you.' }]);
    case 'InvalidParameterException':
      return new AccountFormError([{ field: 'form', message: 'Something in the form is not valid. Check each field.' }]);
    case 'LimitExceededException':
    case 'TooManyRequestsException':
    case 'TooManyFailedAttemptsException':
      return new AccountFormError([{ field: 'form', message: 'Too many attempts: wait a few minutes and try again.' }]);
    default:
      return undefined;
  }
}

/** Cognito's user pool through the SDK, as the app client (no secret) with USER_PASSWORD_AUTH. */
export function createAccounts({ clientId, region, endpoint }: { clientId: string; region: string; endpoint?: string | undefined }): Accounts {
  // Sign-up and sign-in calls are unsigned on AWS; cognito-local accepts any, so none are looked for.
  const client = new CognitoIdentityProviderClient({ region, ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}) });

  async function call<T>(send: () => Promise<T>, onRefused?: (error: unknown) => AccountFormError | undefined): Promise<T> {
    try {
      return await send();
    } catch (error) {
      const known = onRefused?.(error) ?? refusal(error);
      if (known) throw known;
      throw new DependencyUnavailableError('account service', 5, { cause: error });
    }
  }

  // A wrong password, an unknown email: one answer, so the form does not tell which emails have accounts.
  // (cognito-local says InvalidPasswordException for a wrong password; Cognito says NotAuthorizedException.)
  const wrongPassword = (error: unknown) => {
    const name = (error as { name?: unknown }).name;
    if (name === 'NotAuthorizedException' || name === 'InvalidPasswordException' || name === 'UserNotFoundException') {
      return new AccountFormError([{ field: 'password', message: 'That email and password do not match an account.' }], 401);
    }
    return undefined;
  };

  return {
    async signUp({ email, password, name }) {
      await call(() => client.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: name }] })));
    },
    async confirmSignUp({ email, code }) {
      await call(() => client.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code })));
    },
    async signIn({ email, password }) {
      const result = await call(() => client.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } })), wrongPassword);
      const tokens = result.AuthenticationResult;
      if (!tokens?.IdToken || !tokens.RefreshToken) {
        // A challenge (MFA, a new password) this shop does not offer: the pool is not set up for them.
        throw new AccountFormError([{ field: 'form', message: 'This account needs a sign-in step this shop does not offer.' }]);
      }
      return { idToken: tokens.IdToken, refreshToken: tokens.RefreshToken };
    },
    async refresh(refreshToken) {
      try {
        const result = await client.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } }));
        return result.AuthenticationResult?.IdToken;
      } catch (error) {
        if ((error as { name?: unknown }).name === 'NotAuthorizedException') return undefined;
        throw new DependencyUnavailableError('account service', 5, { cause: error });
      }
    },
    async revoke(refreshToken) {
      await client.send(new RevokeTokenCommand({ ClientId: clientId, Token: refreshToken })).catch(() => undefined);
    },
    async forgotPassword(email) {
      await call(() => client.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email })));
    },
    async confirmForgotPassword({ email, code, password }) {
      await call(() => client.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: code, Password: password })));
    },
  };
}
