import {
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  ResendConfirmationCodeCommand,
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

/**
 * The account pages' calls to the user pool; each Cognito refusal becomes an AccountFormError naming the
 * field. None of them tells whether an address has an account: the calls that mail a code answer alike
 * for a known and an unknown address (as Cognito does with PreventUserExistenceErrors, which cognito-local
 * lacks), and the calls that check a code say "not the code we sent" for an unknown address too.
 */
export interface Accounts {
  /** Mails a confirmation code to a new address; an address that has an account already gets nothing, and the same answer. */
  signUp(input: { email: string; password: string; name: string }): Promise<void>;
  /** Confirms an unconfirmed account whose password is `password`: never one someone else signed up with another. */
  confirmSignUp(input: { email: string; code: string; password: string }): Promise<void>;
  /** Mails an unconfirmed account's code again; any other address gets nothing, and the same answer. */
  resendConfirmationCode(email: string): Promise<void>;
  signIn(input: { email: string; password: string }): Promise<SignInTokens>;
  /** A new ID token for a session's refresh token; undefined once the refresh token is revoked or expired. */
  refresh(refreshToken: string): Promise<string | undefined>;
  /** Ends the refresh token (RevokeToken): the session cannot be renewed from a stolen copy of the cookie. */
  revoke(refreshToken: string): Promise<void>;
  forgotPassword(email: string): Promise<void>;
  confirmForgotPassword(input: { email: string; code: string; password: string }): Promise<void>;
}

/** Every refusal of a confirmation, whichever of its three fields was wrong. */
const CONFIRM_REFUSED = new AccountFormError([{ field: 'code', message: 'That code and password do not match an account waiting to be confirmed. Check the newest mail, and type the password you signed up with.' }]);

/** A refusal that means "nothing to do, and nothing to say" (see Accounts). */
const DONE = Symbol('done');
const nameOf = (error: unknown) => String((error as { name?: unknown } | undefined)?.name);

/** The user pool's password policy, in words for the customer. */
export const PASSWORD_RULES = 'Use at least 8 characters with an upper-case letter, a lower-case letter and a number.';

/** Cognito's exception names, as customers should read them (and which field they are about). */
function refusal(error: unknown): AccountFormError | undefined {
  const name = (error as { name?: unknown }).name;
  switch (name) {
    case 'InvalidPasswordException':
      return new AccountFormError([{ field: 'password', message: PASSWORD_RULES }]);
    // One answer for both: Cognito says "expired" for an account that is confirmed already, too.
    case 'CodeMismatchException':
    case 'ExpiredCodeException':
      return new AccountFormError([{ field: 'code', message: 'That code is not the one we sent, or it has expired. Check the mail, or ask for a new code.' }]);
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

  /** `onRefused` may say what a refusal means here: a form error, or DONE (answered as a success). */
  async function call<T>(send: () => Promise<T>, onRefused?: (error: unknown) => AccountFormError | typeof DONE | undefined): Promise<T | undefined> {
    try {
      return await send();
    } catch (error) {
      const known = onRefused?.(error) ?? refusal(error);
      if (known === DONE) return undefined;
      if (known) throw known;
      throw new DependencyUnavailableError('account service', 5, { cause: error });
    }
  }

  // A wrong password, an unknown email, an account not confirmed yet: one answer, so the form does not
  // tell which emails have accounts (not even to someone who just signed one up, and knows its password).
  // (cognito-local says InvalidPasswordException for a wrong password; Cognito says NotAuthorizedException.)
  const wrongPassword = (error: unknown) => {
    if (['NotAuthorizedException', 'InvalidPasswordException', 'UserNotFoundException', 'UserNotConfirmedException'].includes(nameOf(error))) {
      return new AccountFormError([{ field: 'password', message: 'That email and password do not match a confirmed account. Just signed up? Confirm your address with the code we mailed you first.' }], 401);
    }
    return undefined;
  };

  // What Cognito says of an address it has no (unconfirmed) account for, or of one it has: taken as done,
  // so the page is the same either way. Nothing is mailed for them.
  const done = (...names: string[]) => (error: unknown) => (names.includes(nameOf(error)) ? DONE : undefined);
  // A code for an address without an account, for an account confirmed already (or not yet, for a reset),
  // or for one Cognito has locked after wrong codes (only real accounts get locked) is simply not the
  // code we sent: the same words as a wrong code for a real one.
  const notOurCode = (error: unknown) =>
    ['UserNotFoundException', 'NotAuthorizedException', 'AliasExistsException', 'UserNotConfirmedException', 'LimitExceededException', 'TooManyFailedAttemptsException'].includes(nameOf(error))
      ? refusal({ name: 'CodeMismatchException' })
      : undefined;

  return {
    async signUp({ email, password, name }) {
      // An address with an account already: the owner knows how to sign in or reset; the page never says.
      await call(() => client.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: name }] })), done('UsernameExistsException'));
    },
    confirmSignUp: ({ email, code, password }) => (async () => {
      // The password first. Someone else may have signed this address up with a password of theirs; were
      // its owner to confirm that account with the code from their mailbox, the other would sign in to it.
      // Only an unconfirmed account with the password typed here is confirmed (Cognito answers
      // UserNotConfirmedException for the right password of an unconfirmed account, and only then).
      await client
        .send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }))
        .then(
          async ({ AuthenticationResult }) => {
            // Confirmed already, and this is its password: the session Cognito opened is ended at once, and
            // the answer is any refusal's, so this form is no second way to try passwords.
            if (AuthenticationResult?.RefreshToken) await client.send(new RevokeTokenCommand({ ClientId: clientId, Token: AuthenticationResult.RefreshToken })).catch(() => undefined);
            throw CONFIRM_REFUSED;
          },
          (error: unknown) => {
            if (nameOf(error) === 'UserNotConfirmedException') return;
            if (notOurCode(error) ?? wrongPassword(error)) throw CONFIRM_REFUSED;
            throw new DependencyUnavailableError('account service', 5, { cause: error });
          },
        );
      await call(() => client.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code })), notOurCode);
    })().catch((error: unknown) => {
      // A wrong code, a wrong password, an address without an account waiting: one answer.
      throw error instanceof AccountFormError ? CONFIRM_REFUSED : error;
    }),
    async resendConfirmationCode(email) {
      // Unknown, or confirmed already (Cognito says InvalidParameterException then).
      await call(() => client.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: email })), done('UserNotFoundException', 'InvalidParameterException', 'NotAuthorizedException'));
    },
    async signIn({ email, password }) {
      const result = await call(() => client.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } })), wrongPassword);
      const tokens = result?.AuthenticationResult;
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
      // Unknown, unconfirmed (no verified address to mail: InvalidParameterException) or disabled.
      await call(() => client.send(new ForgotPasswordCommand({ ClientId: clientId, Username: email })), done('UserNotFoundException', 'InvalidParameterException', 'NotAuthorizedException'));
    },
    async confirmForgotPassword({ email, code, password }) {
      await call(() => client.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: email, ConfirmationCode: code, Password: password })), notOurCode);
    },
  };
}
