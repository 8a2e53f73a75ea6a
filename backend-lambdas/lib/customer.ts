import type { APIGatewayProxyEvent } from 'aws-lambda';
import { UnauthorizedError } from '../../domain/errors.js';

/** The signed-in customer a request is for, as the Cognito authorizer vouched for them. */
export interface Customer {
  /** The account's `sub`: the customer id of every order and cart of theirs. */
  id: string;
  email: string | undefined;
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
  return { id: sub, email };
}
