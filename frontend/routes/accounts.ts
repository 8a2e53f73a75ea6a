import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import * as z from 'zod/mini';
import { ValidationError, type FieldIssue } from '../../domain/errors.js';
import { AccountFormError, PASSWORD_RULES, type Accounts } from '../accounts.js';
import type { AccountLimiters } from '../account-limits.js';
import type { Sessions } from '../session.js';

type Field = { name: string; label: string; type: string; autocomplete: string; hint?: string };
const FIELDS = {
  email: { name: 'email', label: 'Email', type: 'email', autocomplete: 'email' },
  name: { name: 'name', label: 'Your name', type: 'text', autocomplete: 'name' },
  newPassword: { name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: 'At least 8 characters, with an upper-case letter, a lower-case letter and a number.' },
  password: { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' },
  signUpPassword: { name: 'password', label: 'The password you signed up with', type: 'password', autocomplete: 'current-password' },
  code: { name: 'code', label: 'Code from the mail', type: 'text', autocomplete: 'one-time-code', hint: 'Six digits.' },
} satisfies Record<string, Field>;

interface FormPage {
  formId: string;
  title: string;
  heading: string;
  action: string;
  submit: string;
  fields: Field[];
  intro?: string;
  /** Links under the form; `withEmail` ones carry the address typed so far. */
  links?: { href: string; text: string; withEmail?: boolean }[];
}

const SIGN_IN_LINK = { href: '/sign-in', text: 'Back to sign in' };

const PAGES = {
  signUp: { formId: 'sign-up', title: 'Create an account', heading: 'Create an account', action: '/sign-up', submit: 'Create account', fields: [FIELDS.email, FIELDS.name, FIELDS.newPassword], links: [{ href: '/sign-in', text: 'I have an account: sign in' }] },
  confirm: { formId: 'confirm', title: 'Confirm your email', heading: 'Confirm your email', action: '/confirm', submit: 'Confirm', fields: [FIELDS.email, FIELDS.code, FIELDS.signUpPassword], intro: 'Type the six-digit code from the mail, and the password you signed up with, to confirm your account.', links: [{ href: '/confirm/resend', text: 'Send the code again', withEmail: true }, SIGN_IN_LINK] },
  resend: { formId: 'resend-code', title: 'Send the code again', heading: 'Send the code again', action: '/confirm/resend', submit: 'Send the code again', fields: [FIELDS.email], intro: 'We mail a new confirmation code to an account that is not confirmed yet.', links: [SIGN_IN_LINK] },
  signIn: { formId: 'sign-in', title: 'Sign in', heading: 'Sign in', action: '/sign-in', submit: 'Sign in', fields: [FIELDS.email, FIELDS.password], links: [{ href: '/sign-up', text: 'Create an account' }, { href: '/forgot-password', text: 'I forgot my password', withEmail: true }] },
  forgot: { formId: 'forgot-password', title: 'Forgotten password', heading: 'Forgotten password', action: '/forgot-password', submit: 'Send me a code', fields: [FIELDS.email], intro: 'We mail you a code to set a new password with.', links: [SIGN_IN_LINK] },
  reset: { formId: 'reset-password', title: 'Set a new password', heading: 'Set a new password', action: '/reset-password', submit: 'Set password', fields: [FIELDS.email, FIELDS.code, FIELDS.newPassword], intro: 'Type the code we mailed you and your new password.', links: [{ href: '/forgot-password', text: 'Send me a new code', withEmail: true }, SIGN_IN_LINK] },
} satisfies Record<string, FormPage>;

const NOTICES: Record<string, string> = {
  confirmed: 'Your account is confirmed. Sign in to order.',
  'signed-out': 'You are signed out. Your cart is kept for when you sign in again.',
  'password-set': 'Your new password is set. Sign in with it.',
  'sign-in-first': 'Sign in to see your cart and your orders.',
  // The same words whether or not the address has an account (which the page never tells).
  'code-sent': 'If this address can open a new account, we have mailed a six-digit code to it. If it has an account already, sign in, or reset its password.',
  'code-resent': 'If an account with this address is waiting to be confirmed, we have mailed it a new code.',
  'reset-code-sent': 'If an account has this address, we have mailed a code to it.',
};

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** Where to go after sign-in: a path of this site only, never another (an open redirect). */
export function localPath(value: unknown): string | undefined {
  const path = text(value);
  return /^\/(?![/\\])[\w\-./?=&%]*$/.test(path) && path.length <= 512 ? path : undefined;
}

// What each form must hold before Cognito is asked; the messages name the field for the customer.
const email = z.string().check(z.trim(), z.toLowerCase(), z.maxLength(254, { error: 'Must be at most 254 characters' }), z.email({ error: 'Must be an email address, such as name@example.com' }));
const code = z.string().check(z.trim(), z.regex(/^\d{6}$/, { error: 'Must be the six digits from the mail' }));
const password = z.string().check(z.minLength(1, { error: 'Type your password' }), z.maxLength(256, { error: 'Must be at most 256 characters' }));
// The pool's password policy (settings.accounts.userPool.passwordPolicy), checked before Cognito is asked:
// Cognito would check it only for a new address, and so tell a known address from an unknown one.
const newPassword = z.string().check(
  z.minLength(1, { error: 'Type your password', abort: true }),
  z.minLength(8, { error: PASSWORD_RULES }),
  z.maxLength(256, { error: 'Must be at most 256 characters' }),
  z.regex(/[a-z]/, { error: PASSWORD_RULES }),
  z.regex(/[A-Z]/, { error: PASSWORD_RULES }),
  z.regex(/[0-9]/, { error: PASSWORD_RULES }),
);
const name = z.string().check(z.trim(), z.minLength(1, { error: 'Type your name' }), z.maxLength(100, { error: 'Must be at most 100 characters' }));
const SCHEMAS = {
  signUp: z.object({ email, name, password: newPassword }),
  confirm: z.object({ email, code, password }),
  signIn: z.object({ email, password }),
  forgot: z.object({ email }),
  resend: z.object({ email }),
  reset: z.object({ email, code, password: newPassword }),
};

function parseForm<S extends z.ZodMiniType>(schema: S, body: unknown): z.output<S> {
  const fields = Object.fromEntries(Object.entries((body ?? {}) as Record<string, unknown>).map(([key, value]) => [key, text(value)]));
  const parsed = z.safeParse(schema, fields);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || 'form', message: issue.message }));
  // A password that breaks several of the rules is told them once.
  throw new ValidationError(issues.filter((issue, i) => issues.findIndex((other) => other.field === issue.field && other.message === issue.message) === i));
}

/** Sign-up, confirmation, sign-in, sign-out and forgotten password: each route parses, asks Cognito, answers. */
export function accountRoutes({ accounts, sessions, limiters, confirmFloorMs }: { accounts: Accounts; sessions: Sessions; limiters: AccountLimiters; confirmFloorMs: number }): Router {
  const router = express.Router();

  /**
   * A code mail is asked of Cognito only once the page has answered: whether the address has an account
   * (and so whether Cognito creates a user and mails, or says no at once) shows neither in the page nor
   * in its time. What goes wrong then is logged; the customer can ask again ("send the code again").
   */
  function mailAfterAnswer(req: Request, work: () => Promise<void>) {
    void work().catch((error: unknown) => req.log.warn({ err: error }, 'the account service did not take a code mail request'));
  }

  function render(req: Request, res: Response, status: number, page: FormPage, { values = {}, issues = [], notice }: { values?: Record<string, string>; issues?: readonly FieldIssue[]; notice?: string | undefined } = {}) {
    const errors: Record<string, string> = {};
    for (const issue of issues) errors[issue.field] ??= issue.message;
    res.set('Cache-Control', 'no-store');
    res.status(status).render('account-form', { ...page, values, issues, errors, notice, next: localPath(req.query.next ?? (req.body as Record<string, unknown> | undefined)?.next) });
  }

  /** A form's POST: its fields checked, `act` run, or the form again naming each problem. */
  function handle<K extends keyof typeof SCHEMAS>(key: K, act: (input: z.output<(typeof SCHEMAS)[K]>, req: Request, res: Response) => Promise<void>): RequestHandler {
    return async (req, res) => {
      const values = Object.fromEntries(Object.entries((req.body ?? {}) as Record<string, unknown>).filter(([field]) => field !== 'password' && field !== '_csrf').map(([field, value]) => [field, text(value)]));
      try {
        await act(parseForm(SCHEMAS[key], req.body) as z.output<(typeof SCHEMAS)[K]>, req, res);
      } catch (error) {
        if (error instanceof AccountFormError) return render(req, res, error.status, PAGES[key], { values, issues: error.issues });
        if (error instanceof ValidationError) return render(req, res, 400, PAGES[key], { values, issues: error.issues });
        throw error;
      }
    };
  }

  const show = (key: keyof typeof PAGES): RequestHandler => (req, res) => {
    if (key === 'signIn' && req.customer) return res.redirect(303, localPath(req.query.next) ?? '/');
    render(req, res, 200, PAGES[key], { values: { email: text(req.query.email) }, notice: NOTICES[text(req.query.notice)] });
  };

  router.get('/sign-up', show('signUp'));
  router.post('/sign-up', ...limiters.codeMail, handle('signUp', (input, req, res) => {
    res.redirect(303, `/confirm?email=${encodeURIComponent(input.email)}&notice=code-sent`);
    mailAfterAnswer(req, () => accounts.signUp(input));
    return Promise.resolve();
  }));

  router.get('/confirm', show('confirm'));
  router.post('/confirm', ...limiters.codeAttempt, handle('confirm', async (input, _req, res) => {
    // Answered no sooner than the floor, whatever Cognito was asked: an address someone just signed up
    // takes two calls, one with an account already one, and the difference would tell which it is.
    const floor = new Promise((resolve) => setTimeout(resolve, confirmFloorMs));
    try {
      await accounts.confirmSignUp(input);
    } finally {
      await floor;
    }
    res.redirect(303, `/sign-in?notice=confirmed&email=${encodeURIComponent(input.email)}`);
  }));

  router.get('/confirm/resend', show('resend'));
  router.post('/confirm/resend', ...limiters.codeMail, handle('resend', (input, req, res) => {
    res.redirect(303, `/confirm?email=${encodeURIComponent(input.email)}&notice=code-resent`);
    mailAfterAnswer(req, () => accounts.resendConfirmationCode(input.email));
    return Promise.resolve();
  }));

  router.get('/sign-in', show('signIn'));
  router.post('/sign-in', ...limiters.signIn, handle('signIn', async (input, req, res) => {
    sessions.startSession(req, res, await accounts.signIn(input));
    res.redirect(303, localPath((req.body as Record<string, unknown>).next) ?? '/');
  }));

  router.post('/sign-out', async (req, res) => {
    await sessions.endSession(req, res);
    res.redirect(303, '/sign-in?notice=signed-out');
  });

  router.get('/forgot-password', show('forgot'));
  router.post('/forgot-password', ...limiters.codeMail, handle('forgot', (input, req, res) => {
    res.redirect(303, `/reset-password?email=${encodeURIComponent(input.email)}&notice=reset-code-sent`);
    mailAfterAnswer(req, () => accounts.forgotPassword(input.email));
    return Promise.resolve();
  }));

  router.get('/reset-password', show('reset'));
  router.post('/reset-password', ...limiters.codeAttempt, handle('reset', async (input, _req, res) => {
    await accounts.confirmForgotPassword(input);
    res.redirect(303, `/sign-in?notice=password-set&email=${encodeURIComponent(input.email)}`);
  }));

  return router;
}
