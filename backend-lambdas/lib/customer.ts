import type { APIGatewayProxyEvent } from 'aws-lambda';
import { UnauthorizedError } from '../../domain/errors.js';
import { MAX_CUSTOMER_NAME } from '../../domain/order.js';

/** The signed-in customer a request is for, as the Cognito authorizer vouched for them. */
export interface Customer {
  /** The account's `sub`: the customer id of every order and cart of theirs. */
  id: string;
  email: string | undefined;
  /** The name they signed up with (the ID token's `name`), if the account has one. */
  name: string | undefined;
}

/**
 * A name as the receipt and the mails may show it: the claim is whatever the account holder set
 * through Cognito's own API (up to 2,048 characters), not only what the sign-up form took. Control and
 * format characters go, spaces collapse, and it is cut at a character, never inside one.
 */
function displayName(claim: string): string {
  const cleaned = claim.replace(/[\p{Cc}\p{Cf}]/gu, '').replace(/\s+/gu, ' ').trim();
  return [...cleaned].slice(0, MAX_CUSTOMER_NAME).join('').trim();
}

/**
 * The customer from the authorizer's claims (API Gateway's Cognito authorizer puts the ID token's
 * claims there; the local adapter does the same). Never from the body: a customer cannot name another.
 */
export function customerOf(event: APIGatewayProxyEvent): Customer {
  const claims = (event.requestContext.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sub)) throw new UnauthorizedError();
  const email = typeof claims?.email === 'string' ? claims.email : undefined;
  const name = typeof claims?.name === 'string' ? displayName(claims.name) : '';
  return { id: sub, email, name: name || undefined };
}
