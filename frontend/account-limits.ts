import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type Options } from 'express-rate-limit';
import type { AppConfig } from './app.js';
import { respond } from './pages.js';

/** The account forms' limits, each a pair: per address (whichever clients) and per client (whichever addresses). */
export interface AccountLimiters {
  /** Failed sign-ins (a success gives its count back). */
  signIn: RequestHandler[];
  /** Mails with a code: sign-up, "send the code again", forgotten password; one count per address for all three. */
  codeMail: RequestHandler[];
  /** Wrong confirmation and reset codes (a right one gives its count back). */
  codeAttempt: RequestHandler[];
}

/**
 * The mailbox a form's address reaches, the per-address key: as Cognito reads it (trimmed, lower case),
 * without a "+tag", which most mail services deliver to the same mailbox (name+1@, name+2@ … are one
 * victim's inbox, one count), and for Gmail without dots and under one domain (n.ame@googlemail.com is
 * name@gmail.com). Empty for a form without one.
 */
export function mailboxOf(email: unknown): string {
  if (typeof email !== 'string') return '';
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  let [local, domain] = [address.slice(0, at).split('+')[0]!, address.slice(at + 1)];
  if (domain === 'gmail.com' || domain === 'googlemail.com') [local, domain] = [local.replaceAll('.', ''), 'gmail.com'];
  return `${local}@${domain}`;
}

/** "Try again after 14:05 UTC (in about 42 minutes)": when the limit that was hit lets this request through again. */
export function retryText(resetTime: Date | undefined, now = Date.now()): string {
  if (!resetTime) return 'Try again later.';
  const minutes = Math.max(1, Math.ceil((resetTime.getTime() - now) / 60_000));
  // The minute it is over, rounded up: "after 10:01" for 10:00:40, never a time already past.
  const at = new Date(Math.ceil(resetTime.getTime() / 60_000) * 60_000);
  return `Try again after ${at.toISOString().slice(11, 16)} UTC (in about ${minutes} minute${minutes === 1 ? '' : 's'}).`;
}

/**
 * The limits in front of the account forms. Counts are kept in this process (express-rate-limit's
 * memory store): behind the load balancer each instance counts on its own, so a client that is spread
 * over n instances gets at most n times a limit; Cognito's own quotas and the WAF's rate rule stand behind.
 */
export function accountLimiters(config: AppConfig): AccountLimiters {
  const limiter = (name: string, title: string, windowMs: number, limits: { address: number; client: number }, options: Partial<Options> = {}) => {
    const common: Partial<Options> = {
      windowMs,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      ...options,
      handler: (req: Request, res: Response) => {
        const { resetTime } = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit ?? {};
        if (resetTime) res.setHeader('Retry-After', String(Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000))));
        respond(req, res, 429, { title, message: `${retryText(resetTime)} Nothing was sent or changed.` });
      },
    };
    // Per client first: a client going through many addresses is stopped before it counts against any of them.
    return [
      rateLimit({ ...common, limit: limits.client, identifier: `${name}-client` }),
      rateLimit({ ...common, limit: limits.address, identifier: `${name}-address`, keyGenerator: (req) => `address:${mailboxOf((req.body as Record<string, unknown> | undefined)?.email)}` }),
    ];
  };
  return {
    signIn: limiter('sign-in', 'Too many sign-in attempts', config.SIGN_IN_WINDOW_MS, { address: config.SIGN_IN_ACCOUNT_MAX, client: config.SIGN_IN_CLIENT_MAX }, { skipSuccessfulRequests: true }),
    // A form refused for what it holds (a 400: nothing is mailed) does not count against the address.
    codeMail: limiter('code-mail', 'Too many codes asked for', config.CODE_MAIL_WINDOW_MS, { address: config.CODE_MAIL_ADDRESS_MAX, client: config.CODE_MAIL_CLIENT_MAX }, { skipFailedRequests: true }),
    codeAttempt: limiter('code-attempt', 'Too many codes tried', config.CODE_ATTEMPT_WINDOW_MS, { address: config.CODE_ATTEMPT_ADDRESS_MAX, client: config.CODE_ATTEMPT_CLIENT_MAX }, { skipSuccessfulRequests: true }),
  };
}
