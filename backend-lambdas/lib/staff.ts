import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { applyChange, ORDER_STATUSES, transition, type LifecycleTimings, type StatusChange } from '../../domain/lifecycle.js';
import { isOrderId, type StoredOrder } from '../../domain/order.js';
import { settings } from '../../platform/settings.js';
import { customerOf } from './customer.js';
import type { StatusChanges } from './order-events.js';
import type { OrderStore } from './order-store.js';

/**
 * The groups of an ID token's `cognito:groups` claim as it reaches a function: API Gateway's
 * authorizer hands claims on as text, an array as "[a b]" (or "a,b"); the local one as JSON.
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((group): group is string => typeof group === 'string');
  if (typeof claim !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(claim);
    if (Array.isArray(parsed)) return groupsOf(parsed);
  } catch {
    // Not JSON: API Gateway's own spelling.
  }
  return claim.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
}

/** A member of the shop's staff, as the Cognito authorizer vouched for them. */
export interface StaffMember {
  id: string;
  /** Who the order's history names: their address (never shown to customers). */
  name: string;
}

/**
 * The member of staff a request is from. Anyone else, signed in or not, gets the 404 an unknown route
 * gets: the staff routes say nothing of themselves to customers.
 */
export function staffOf(event: APIGatewayProxyEvent): StaffMember {
  const claims = (event.requestContext.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
  const customer = customerOf(event);
  if (!groupsOf(claims?.['cognito:groups']).includes(settings.accounts.staffGroup)) throw new NotFoundError('Route');
  return { id: customer.id, name: customer.email ?? customer.id };
}

/** A member of staff moving an order on by hand, or cancelling it (the board, the console, `aws lambda invoke`). */
export const staffCommandSchema = z.strictObject({
  action: z.enum(['advance', 'cancel']),
  order_id: z.string().check(z.refine(isOrderId, { error: 'Must be an order id (a UUID)' })),
  to: z.optional(z.enum(ORDER_STATUSES)),
  /** The version the member of staff saw: if the order moved since (the timer, another click), nothing is done. */
  version: z.optional(z.int().check(z.minimum(1))),
  /** Who gave the command, for the order's history (an address, a name). */
  by: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200))),
  /** Why, for a cancellation: the customer is told. */
  reason: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(500))),
});
export type StaffCommand = z.infer<typeof staffCommandSchema>;

/**
 * Applies a staff command through the same conditional, versioned write as the kitchen's timer, so
 * a click and the timer never both move one step: the second finds the version gone and is refused
 * (ConflictError), and so is a click on an order that moved since the board showed it (`version`). An unknown order is a NotFoundError; a move the lifecycle forbids (advancing a
 * completed order) an IllegalTransitionError.
 */
export function createStaffCommands({ store, changes, timings, clock = () => new Date() }: { store: OrderStore; changes: StatusChanges; timings: LifecycleTimings; clock?: () => Date }) {
  return async function apply(input: StaffCommand): Promise<{ order: StoredOrder; change: StatusChange }> {
    const order = await store.get(input.order_id);
    if (!order) throw new NotFoundError(`Order ${input.order_id}`);
    if (input.version !== undefined && input.version !== order.version) {
      throw new ConflictError(`Order ${order.order_id} moved on since it was shown: it is ${order.status.toLowerCase()} now`);
    }
    const by = { role: 'staff', id: input.by ?? 'staff command' } as const;
    const change = transition(order, { to: input.action === 'cancel' ? 'CANCELLED' : input.to, at: clock(), timings, by, reason: input.reason });
    if (!(await changes.applyByHand(order, change))) {
      throw new ConflictError(`Order ${order.order_id} changed while it was being ${input.action === 'cancel' ? 'cancelled' : 'advanced'}; read it again and retry`);
    }
    return { order: applyChange(order, change), change };
  };
}
