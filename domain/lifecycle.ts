import * as z from 'zod/mini';
import { AppError } from './errors.js';

/** An order's life: RECEIVED -> PREPARING -> READY -> COMPLETED, or CANCELLED while still RECEIVED. */
export const ORDER_STATUSES = ['RECEIVED', 'PREPARING', 'READY', 'COMPLETED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses an order never leaves. */
export const FINAL_STATUSES: readonly OrderStatus[] = ['COMPLETED', 'CANCELLED'];

/** The statuses the kitchen moves on by itself, each with the time an order spends in it. */
export type TimedStatus = 'RECEIVED' | 'PREPARING' | 'READY';
export type LifecycleTimings = Readonly<Record<TimedStatus, number>>;

const NEXT: Readonly<Record<OrderStatus, OrderStatus | undefined>> = {
  RECEIVED: 'PREPARING',
  PREPARING: 'READY',
  READY: 'COMPLETED',
  COMPLETED: undefined,
  CANCELLED: undefined,
};
const ALLOWED: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  RECEIVED: ['PREPARING', 'CANCELLED'],
  PREPARING: ['READY'],
  READY: ['COMPLETED'],
  COMPLETED: [],
  CANCELLED: [],
};

/**
 * Who moved an order by hand: the customer whose order it is, or a member of staff (`id` names
 * them: their address, or the tool they used). The kitchen's timer is nobody: its entries have no `by`.
 * `id` is stored always and left out of what customers and integrations read (publicEntry).
 */
export interface Actor {
  role: 'customer' | 'staff';
  id?: string | undefined;
}

/** One entry of an order's history: the status it entered, and when; for a change made by hand, who made it and why. */
export interface StatusEntry {
  status: OrderStatus;
  at: string;
  by?: Actor | undefined;
  reason?: string | undefined;
}

/** The lifecycle fields every stored order carries. `version` rises by one with every change. */
export interface Lifecycle {
  status: OrderStatus;
  status_history: StatusEntry[];
  version: number;
  /** When the kitchen should move the order on; absent once it is final. */
  due_at?: string | undefined;
}

/** A change of status, computed before it is written; every write is conditional on `from` and `fromVersion`. */
export interface StatusChange {
  from: OrderStatus;
  fromVersion: number;
  to: OrderStatus;
  version: number;
  at: string;
  due_at: string | undefined;
  by?: Actor | undefined;
  reason?: string | undefined;
}

/** The change asked for is not a step of the lifecycle (a completed order cannot be cancelled, say). */
export class IllegalTransitionError extends AppError {
  constructor(
    readonly from: OrderStatus,
    /** Undefined when the order was to move to its next step and has none. */
    readonly to: OrderStatus | undefined,
  ) {
    const allowed = ALLOWED[from];
    super(
      'illegal_transition',
      to === undefined
        ? `An order that is ${from} is final and cannot move on`
        : `An order that is ${from} cannot become ${to}${allowed.length ? `; it can become ${allowed.join(' or ')}` : '; it is final'}`,
    );
  }
}

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

export function isFinal(status: OrderStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** When an order that entered `status` at `at` is due to move on; undefined for a final status. */
export function dueAt(status: OrderStatus, at: string, timings: LifecycleTimings): string | undefined {
  if (isFinal(status)) return undefined;
  return new Date(Date.parse(at) + timings[status as TimedStatus] * 1000).toISOString();
}

/** The lifecycle of an order just stored: RECEIVED at `at`. */
export function received(at: string, timings: LifecycleTimings): Lifecycle {
  return { status: 'RECEIVED', status_history: [{ status: 'RECEIVED', at }], version: 1, due_at: dueAt('RECEIVED', at, timings) };
}

/**
 * The one transition function: moves an order from its current status to `to`, or to its next step
 * when `to` is left out. Throws IllegalTransitionError when the lifecycle does not allow it.
 */
export function transition(
  current: Pick<Lifecycle, 'status' | 'version'>,
  { to, at, timings, by, reason }: { to?: OrderStatus | undefined; at: Date; timings: LifecycleTimings; by?: Actor | undefined; reason?: string | undefined },
): StatusChange {
  const target = to ?? NEXT[current.status];
  if (!target || !ALLOWED[current.status].includes(target)) throw new IllegalTransitionError(current.status, target);
  const when = at.toISOString();
  return { from: current.status, fromVersion: current.version, to: target, version: current.version + 1, at: when, due_at: dueAt(target, when, timings), ...(by ? { by } : {}), ...(reason ? { reason } : {}) };
}

/** Whether a customer may still cancel an order themselves: only while the kitchen has not started it. */
export function customerMayCancel(status: OrderStatus): boolean {
  return status === 'RECEIVED';
}

/**
 * A history entry as a customer or an integration reads it: who made a change by hand is their role
 * alone, never a member of staff's address (the full entry stays in the table, for the shop).
 */
export function publicEntry({ by, ...entry }: StatusEntry): StatusEntry {
  return { ...entry, ...(by ? { by: { role: by.role } } : {}) };
}

/** The history entry a change adds: the status and time, and who made it and why when it was made by hand. */
export function entryOf(change: StatusChange): StatusEntry {
  return { status: change.to, at: change.at, ...(change.by ? { by: change.by } : {}), ...(change.reason ? { reason: change.reason } : {}) };
}

/** Applies a change to an order's lifecycle fields, as the conditional write does in the table. */
export function applyChange<T extends Lifecycle>(order: T, change: StatusChange): T {
  if (order.status !== change.from || order.version !== change.fromVersion) throw new IllegalTransitionError(order.status, change.to);
  return {
    ...order,
    status: change.to,
    status_history: [...order.status_history, entryOf(change)],
    version: change.version,
    due_at: change.due_at,
  };
}

/** What subscribers of order-events hear when an order changes status. */
export interface StatusChangedEvent {
  type: 'order.status_changed';
  order_id: string;
  customer_id: string;
  from: OrderStatus;
  to: OrderStatus;
  at: string;
  /** The order's version and due time after the change: a page that holds the version before applies it without a read. Absent from events published before they were added. */
  version?: number | undefined;
  due_at?: string | undefined;
  /** Who made a change by hand, and why; absent for the kitchen's timer. */
  by?: Actor | undefined;
  reason?: string | undefined;
}

/**
 * The status changes of one publish call in one message, for subscribers that follow every order
 * (the web processes): what each of them receives grows with the kitchen's calls, not with the
 * orders. The per-order events stay the record (mails, retries); a digest is a hint.
 */
export interface OrderDigest {
  type: 'order.digest';
  events: StatusChangedEvent[];
}

/** The event a written change makes: who made it and why ride along, for the mail and the pages. */
export function statusChangedEvent(order: { order_id: string; customer_id: string }, change: StatusChange): StatusChangedEvent {
  const { status: to, ...entry } = entryOf(change);
  return { type: 'order.status_changed', order_id: order.order_id, customer_id: order.customer_id, from: change.from, to, version: change.version, due_at: change.due_at, ...entry };
}

const seconds = z.int().check(z.minimum(0), z.maximum(86_400));
const timingsSchema = z.strictObject({ RECEIVED: seconds, PREPARING: seconds, READY: seconds });

/** The timings as configuration: JSON text such as {"RECEIVED":60,"PREPARING":600,"READY":300}. */
export const lifecycleTimingsJson = z.pipe(
  z.string(),
  z.pipe(
    z.transform((text: string): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }),
    timingsSchema,
  ),
);
