// Sessions without server-side state: the customer's ID token and refresh token, each in its own
// cookie, checked with aws-jwt-verify on every request; CSRF tokens (csrf-csrf, double submit)
// tied to the session, or before sign-in to a pre-session cookie.
import type { CookieOptions, NextFunction, Request, RequestHandler, Response } from 'express';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { doubleCsrf } from 'csrf-csrf';
import { DependencyUnavailableError } from '../domain/errors.js';
import type { Accounts, SignInTokens } from './accounts.js';
import { settings } from '../platform/settings.js';
import type { IdTokenVerifier } from './id-token.js';

export const COOKIES = { idToken: 'shop_session', refreshToken: 'shop_refresh', preSession: 'shop_pre', csrf: 'shop_csrf' } as const;
/** The form field every state-changing form carries its CSRF token in. */
export const CSRF_FIELD = '_csrf';

/** The signed-in customer of a request, from a verified ID token. */
export interface Customer {
  /** The token's `sub`: the customer id of their cart and orders. */
  id: string;
  email: string;
  name: string;
  /** A member of the pool's staff group (the ID token's `cognito:groups`): the /staff pages are theirs. */
  staff: boolean;
  idToken: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    customer?: Customer | undefined;
  }
}

/**
 * HttpOnly: no script reads them. SameSite=Lax rather than Strict: a link to a status page in the
 * customer's order mail is a top-level GET from another site, and with Strict it would arrive
 * signed out (and their order would be a 404); Lax still keeps the cookies off every cross-site
 * POST, and every form is CSRF-checked besides. Secure whenever the request came over HTTPS
 * (behind the ALB, X-Forwarded-Proto through TRUST_PROXY_HOPS), so it is never sent in clear.
 */
export function cookieOptions(req: Request): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' };
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/** The ID token's `name` (the one signed up with); an account made without one, by an admin, goes by its email. */
function customerOf(claims: Record<string, unknown>, idToken: string): Customer | undefined {
  const { sub, email, name } = claims;
  if (typeof sub !== 'string' || typeof email !== 'string') return undefined;
  const groups = claims['cognito:groups'];
  const staff = Array.isArray(groups) && groups.includes(settings.accounts.staffGroup);
  return { id: sub, email, name: typeof name === 'string' && name ? name : email, staff, idToken };
}

export interface Sessions {
  /** Reads the cookies into `req.customer`, refreshing an expired ID token; invalid cookies are cleared. */
  readSession: RequestHandler;
  /** Rejects (403, through the error handler) a state-changing request whose CSRF token is missing or not this session's. */
  csrfProtection: RequestHandler;
  /** The token for the forms of this page (sets its cookie). */
  csrfToken(req: Request, res: Response): string;
  startSession(req: Request, res: Response, tokens: SignInTokens): void;
  endSession(req: Request, res: Response): Promise<void>;
}

export function createSessions({ verify, accounts, secret }: { verify: IdTokenVerifier; accounts: Accounts; secret: string }): Sessions {
  // A key of its own for CSRF, whatever `secret` is also used for.
  const csrfSecret = createHmac('sha256', secret).update('csrf-csrf').digest('base64url');

  function clearSession(req: Request, res: Response) {
    for (const name of [COOKIES.idToken, COOKIES.refreshToken]) res.clearCookie(name, cookieOptions(req));
  }

  /** A random id for a visitor who is not signed in, for their forms' CSRF tokens to be tied to. */
  function preSessionOf(req: Request, res: Response): string {
    const cookies = req.cookies as Record<string, string | undefined>;
    const existing = cookies[COOKIES.preSession];
    if (existing && /^[A-Za-z0-9_-]{22,64}$/.test(existing)) return existing;
    const id = randomBytes(24).toString('base64url');
    res.cookie(COOKIES.preSession, id, cookieOptions(req));
    // This request's own tokens are made with it too.
    cookies[COOKIES.preSession] = id;
    return id;
  }

  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => csrfSecret,
    // A signed-in session is its refresh token (kept across ID token refreshes, new at every sign-in);
    // before sign-in, the pre-session cookie. A token of one session is worthless in another.
    getSessionIdentifier: (req) => {
      const refreshToken = (req.cookies as Record<string, string | undefined>)[COOKIES.refreshToken];
      if (req.customer) return `session:${digest(refreshToken ?? req.customer.idToken)}`;
      return `visitor:${(req.cookies as Record<string, string | undefined>)[COOKIES.preSession] ?? ''}`;
    },
    cookieName: COOKIES.csrf,
    cookieOptions: { httpOnly: true, sameSite: 'lax', secure: false, path: '/' },
    getCsrfTokenFromRequest: (req) => {
      const token = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      return typeof token === 'string' ? token : undefined;
    },
    // GraphQL takes JSON only (no form can send it cross-site without a CORS preflight this site never
    // grants) and serves no mutation; the Origin check in app.ts still applies to it.
    skipCsrfProtection: (req) => req.path === '/graphql' || req.path === '/graphql/stream',
  });

  return {
    async readSession(req, res, next) {
      try {
        const cookies = req.cookies as Record<string, string | undefined>;
        const idToken = cookies[COOKIES.idToken];
        const refreshToken = cookies[COOKIES.refreshToken];
        let claims = idToken ? await verify(idToken) : undefined;
        let current = idToken;
        if (!claims && refreshToken) {
          // Expired (or unreadable): the refresh token, which Cognito checks itself, gets a new one.
          const renewed = await accounts.refresh(refreshToken).catch((error: unknown) => {
            if (error instanceof DependencyUnavailableError) return null;
            throw error;
          });
          if (renewed === null) {
            // Cognito did not answer: signed out for this request, but the cookies are kept for the next.
            req.log.warn('could not refresh a session: the account service did not answer');
            return next();
          }
          claims = renewed ? await verify(renewed) : undefined;
          if (claims && renewed) {
            current = renewed;
            res.cookie(COOKIES.idToken, renewed, cookieOptions(req));
          }
        }
        const customer = claims && current ? customerOf(claims, current) : undefined;
        if (customer) req.customer = customer;
        else if (idToken || refreshToken) clearSession(req, res);
        if (!customer) preSessionOf(req, res);
        next();
      } catch (error) {
        next(error);
      }
    },
    csrfProtection: (req: Request, res: Response, next: NextFunction) => doubleCsrfProtection(req, res, next),
    csrfToken: (req, res) => generateCsrfToken(req, res, { cookieOptions: cookieOptions(req) }),
    startSession(req, res, { idToken, refreshToken }) {
      res.cookie(COOKIES.idToken, idToken, cookieOptions(req));
      res.cookie(COOKIES.refreshToken, refreshToken, cookieOptions(req));
      // The visitor's CSRF token is tied to the pre-session; the session gets its own on the next page.
      res.clearCookie(COOKIES.csrf, cookieOptions(req));
    },
    async endSession(req, res) {
      // cognito-local has no GlobalSignOut; RevokeToken (which Cognito has too) ends the refresh token,
      // so a copied cookie cannot renew the session. The ID token itself is stateless: clearing it
      // here ends this browser's session, and a copy of it lapses at its expiry (idTokenValidityMinutes).
      const refreshToken = (req.cookies as Record<string, string | undefined>)[COOKIES.refreshToken];
      if (refreshToken) await accounts.revoke(refreshToken);
      clearSession(req, res);
      res.clearCookie(COOKIES.csrf, cookieOptions(req));
    },
  };
}
