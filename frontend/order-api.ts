import { Agent, request } from 'undici';
import type { CartView } from '../domain/cart.js';
import { createCatalogue, productFromJson, type Catalogue, type ProductJson } from '../domain/catalogue.js';
import { ConflictError, DependencyUnavailableError, NotFoundError, UnauthorizedError, ValidationError, type FieldIssue } from '../domain/errors.js';
import type { StoredOrder } from '../domain/order.js';

/** One page of a customer's orders, newest first; `next_cursor` is null on the last. */
export interface OrdersPage {
  orders: StoredOrder[];
  next_cursor: string | null;
}

/** The integration API with the web tier's API key: orders placed with the API key only, never an account's. */
export interface OrderApi {
  /** The stored order, or null while it is not (yet) processed, or when it is an account's. */
  getOrder(orderId: string, options?: { requestId?: string }): Promise<StoredOrder | null>;
  /** Those of up to 100 orders that are stored (and not an account's), in no particular order. */
  getOrders(orderIds: readonly string[]): Promise<StoredOrder[]>;
  /** The menu: every product, with its price and whether it can be ordered now (GET /menu); `fresh`, read from the table, not the API's cache. */
  menu(options?: { requestId?: string; fresh?: boolean }): Promise<Catalogue>;
}

/**
 * The signed-in customer's routes (/me/...): each call carries the customer's ID token, which the
 * API's Cognito authorizer checks and takes the customer from. `idToken` is the raw token.
 */
export interface CustomerApi {
  getCart(idToken: string, options?: { requestId?: string }): Promise<CartView>;
  setCartLine(idToken: string, productId: string, quantity: unknown, options?: { requestId?: string }): Promise<CartView>;
  removeCartLine(idToken: string, productId: string, options?: { requestId?: string }): Promise<CartView>;
  /** The cart becomes one order; the same cart_version posted again is the same order, a changed cart a ConflictError. */
  checkout(idToken: string, body: { cart_version?: number; expected_total_cents?: number }, options?: { requestId?: string }): Promise<{ order_id: string }>;
  myOrders(idToken: string, page: { limit?: number; cursor?: string }, options?: { requestId?: string }): Promise<OrdersPage>;
  /** The customer's own order, or null for one that is not theirs or not stored. */
  myOrder(idToken: string, orderId: string, options?: { requestId?: string }): Promise<StoredOrder | null>;
  /** Those of up to 25 orders that are the customer's own and stored, in no particular order. */
  myOrdersByIds(idToken: string, orderIds: readonly string[]): Promise<StoredOrder[]>;
  /** Cancels the customer's own order while it is RECEIVED: NotFoundError for one not theirs, ConflictError once it is later. */
  cancelMyOrder(idToken: string, orderId: string, options?: { requestId?: string }): Promise<StoredOrder>;
}

/** The staff's routes (/staff/...), with a staff member's ID token; anyone else's token gets NotFoundError. */
export interface StaffApi {
  /** The open orders, oldest first; `truncated` when there were more than the board shows. */
  openOrders(idToken: string, options?: { requestId?: string }): Promise<{ orders: StoredOrder[]; truncated: boolean }>;
  /** Moves the order to its next step; ConflictError when it changed meanwhile or has none. */
  advanceOrder(idToken: string, orderId: string, version: number, options?: { requestId?: string }): Promise<StoredOrder>;
  /** Cancels the order, with the reason its customer is told; ValidationError without one. */
  cancelOrder(idToken: string, orderId: string, version: number, reason: string, options?: { requestId?: string }): Promise<StoredOrder>;
  /** Adds a product or changes one (the same product_id), fields as the form has them; ValidationError names each bad one. */
  saveProduct(idToken: string, fields: Record<string, unknown>, options?: { requestId?: string }): Promise<ProductJson & { version: number }>;
}

/**
 * An order as `viewer` may read it: their account's own (read with their token), else one an
 * integration placed with the API key (read by whoever has its number); null for anything else.
 * Another account's order and one never placed take the same two reads, so they answer alike, in
 * time too; the viewer's own order takes one.
 */
export async function readOrder(api: OrderApi & CustomerApi, viewer: { idToken: string } | undefined, orderId: string, options: { requestId?: string } = {}): Promise<StoredOrder | null> {
  return (viewer ? await api.myOrder(viewer.idToken, orderId, options) : null) ?? (await api.getOrder(orderId, options));
}

export interface OrderApiOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  retryAfterSeconds?: number;
}

/** A client for the API Gateway REST API; every failure to get an answer becomes DependencyUnavailableError. */
export function createOrderApi({ baseUrl, apiKey, timeoutMs, retryAfterSeconds = 5 }: OrderApiOptions): OrderApi & CustomerApi & StaffApi {
  const unavailable = (cause: unknown) => new DependencyUnavailableError('order service', retryAfterSeconds, { cause });

  // Kept-alive connections to the API, and undici's request rather than fetch: a third of the CPU per call.
  // Timeouts are undici's own, not AbortSignal.timeout: a signal and its timer per request stay alive
  // until the timer fires, which at hundreds of requests a second is most of the web tier's memory.
  const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 30_000, connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });

  async function call(path: string, init: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; headers?: Record<string, string>; body?: string }, requestId?: string): Promise<{ status: number; body: unknown }> {
    let status: number;
    let body: unknown;
    try {
      const response = await request(`${baseUrl}${path}`, {
        method: init.method,
        headers: {
          accept: 'application/json',
          'x-api-key': apiKey,
          ...(requestId ? { 'x-request-id': requestId } : {}),
          ...init.headers,
        },
        ...(init.body !== undefined ? { body: init.body } : {}),
        dispatcher,
      });
      status = response.statusCode;
      body = await response.body.json();
    } catch (error) {
      throw unavailable(error);
    }
    if (status === 429 || status >= 500) throw unavailable(new Error(`API answered ${status}`));
    if (status === 403) throw unavailable(new Error('API refused the API key (403); check API_KEY or API_KEY_PARAMETER'));
    return { status, body };
  }

  /** A /me route, as the customer whose ID token it carries; the answers every one of them shares are mapped here. */
  async function callAsCustomer(idToken: string, path: string, init: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; body?: unknown }, requestId?: string) {
    const { status, body } = await call(
      path,
      { method: init.method, headers: { authorization: idToken, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) },
      requestId,
    );
    const answer = body as { issues?: FieldIssue[]; message?: string };
    // The web tier checked the token a moment ago; it expired in between. The page sends them to sign in.
    if (status === 401) throw new UnauthorizedError('Your session has ended: sign in again');
    if (status === 400 && Array.isArray(answer.issues)) throw new ValidationError(answer.issues);
    if (status === 409) throw new ConflictError(answer.message ?? 'That changed meanwhile; look again');
    if (status === 404) throw new NotFoundError(path);
    if (status >= 300) throw new Error(`Unexpected answer from ${init.method} ${path}: ${status} ${answer.message ?? ''}`);
    return body;
  }

  return {
    async getOrder(orderId, { requestId } = {}) {
      const { status, body } = await call(`/orders/${encodeURIComponent(orderId)}`, { method: 'GET' }, requestId);
      if (status === 200) return body as StoredOrder;
      if (status === 404) return null;
      if (status === 400) throw new ValidationError((body as { issues?: FieldIssue[] }).issues ?? []);
      throw new Error(`Unexpected answer from GET /orders/{id}: ${status}`);
    },

    async menu({ requestId, fresh = false } = {}) {
      const { status, body } = await call(fresh ? '/menu?fresh=1' : '/menu', { method: 'GET' }, requestId);
      const answer = body as { products?: ProductJson[] };
      if (status !== 200 || !Array.isArray(answer.products)) throw new Error(`Unexpected answer from GET /menu: ${status}`);
      return createCatalogue(answer.products.map(productFromJson));
    },

    async getOrders(orderIds) {
      const { status, body } = await call(`/orders?ids=${orderIds.map(encodeURIComponent).join(',')}`, { method: 'GET' });
      const answer = body as { orders?: StoredOrder[]; issues?: FieldIssue[] };
      if (status === 200 && Array.isArray(answer.orders)) return answer.orders;
      if (status === 400) throw new ValidationError(answer.issues ?? []);
      throw new Error(`Unexpected answer from GET /orders?ids=: ${status}`);
    },

    async getCart(idToken, { requestId } = {}) {
      return (await callAsCustomer(idToken, '/me/cart', { method: 'GET' }, requestId)) as CartView;
    },
    async setCartLine(idToken, productId, quantity, { requestId } = {}) {
      return (await callAsCustomer(idToken, `/me/cart/lines/${encodeURIComponent(productId)}`, { method: 'PUT', body: { quantity } }, requestId)) as CartView;
    },
    async removeCartLine(idToken, productId, { requestId } = {}) {
      return (await callAsCustomer(idToken, `/me/cart/lines/${encodeURIComponent(productId)}`, { method: 'DELETE' }, requestId)) as CartView;
    },
    async checkout(idToken, body, { requestId } = {}) {
      const answer = (await callAsCustomer(idToken, '/me/orders', { method: 'POST', body }, requestId)) as { order_id?: unknown };
      if (typeof answer.order_id !== 'string') throw new Error('Unexpected answer from POST /me/orders: no order_id');
      return { order_id: answer.order_id };
    },
    async myOrders(idToken, { limit, cursor }, { requestId } = {}) {
      const query = new URLSearchParams({ ...(limit !== undefined ? { limit: String(limit) } : {}), ...(cursor ? { cursor } : {}) }).toString();
      return (await callAsCustomer(idToken, `/me/orders${query ? `?${query}` : ''}`, { method: 'GET' }, requestId)) as OrdersPage;
    },
    async myOrder(idToken, orderId, { requestId } = {}) {
      try {
        return (await callAsCustomer(idToken, `/me/orders/${encodeURIComponent(orderId)}`, { method: 'GET' }, requestId)) as StoredOrder;
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
    async cancelMyOrder(idToken, orderId, { requestId } = {}) {
      return (await callAsCustomer(idToken, `/me/orders/${encodeURIComponent(orderId)}/cancel`, { method: 'POST' }, requestId)) as StoredOrder;
    },
    async myOrdersByIds(idToken, orderIds) {
      const answer = (await callAsCustomer(idToken, `/me/orders?ids=${orderIds.map(encodeURIComponent).join(',')}`, { method: 'GET' })) as { orders?: StoredOrder[] };
      if (!Array.isArray(answer.orders)) throw new Error('Unexpected answer from GET /me/orders?ids=: no orders');
      return answer.orders;
    },
    async openOrders(idToken, { requestId } = {}) {
      return (await callAsCustomer(idToken, '/staff/orders', { method: 'GET' }, requestId)) as { orders: StoredOrder[]; truncated: boolean };
    },
    async advanceOrder(idToken, orderId, version, { requestId } = {}) {
      return (await callAsCustomer(idToken, `/staff/orders/${encodeURIComponent(orderId)}/advance`, { method: 'POST', body: { version } }, requestId)) as StoredOrder;
    },
    async cancelOrder(idToken, orderId, version, reason, { requestId } = {}) {
      return (await callAsCustomer(idToken, `/staff/orders/${encodeURIComponent(orderId)}/cancel`, { method: 'POST', body: { version, reason } }, requestId)) as StoredOrder;
    },
    async saveProduct(idToken, fields, { requestId } = {}) {
      return (await callAsCustomer(idToken, '/staff/menu', { method: 'POST', body: fields }, requestId)) as ProductJson & { version: number };
    },
  };
}
