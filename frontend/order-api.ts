import { Agent, request } from 'undici';
import { DependencyUnavailableError, ValidationError, type FieldIssue } from '../domain/errors.js';
import { IDEMPOTENCY_KEY_FIELD, type OrderRequest, type StoredOrder } from '../domain/order.js';

/** The order API as the web tier sees it. */
export interface OrderApi {
  submitOrder(order: OrderRequest, options?: { idempotencyKey?: string | undefined; requestId?: string }): Promise<{ order_id: string }>;
  /** The stored order, or null while it is not (yet) processed. */
  getOrder(orderId: string, options?: { requestId?: string }): Promise<StoredOrder | null>;
}

export interface OrderApiOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  retryAfterSeconds?: number;
}

/** A client for the API Gateway REST API; every failure to get an answer becomes DependencyUnavailableError. */
export function createOrderApi({ baseUrl, apiKey, timeoutMs, retryAfterSeconds = 5 }: OrderApiOptions): OrderApi {
  const unavailable = (cause: unknown) => new DependencyUnavailableError('order service', retryAfterSeconds, { cause });

  // Kept-alive connections to the API, and undici's request rather than fetch: a third of the CPU per call.
  // Timeouts are undici's own, not AbortSignal.timeout: a signal and its timer per request stay alive
  // until the timer fires, which at hundreds of requests a second is most of the web tier's memory.
  const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 30_000, connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });

  async function call(path: string, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }, requestId?: string): Promise<{ status: number; body: unknown }> {
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

  return {
    async submitOrder(order, { idempotencyKey, requestId } = {}) {
      const { status, body } = await call(
        '/orders',
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(idempotencyKey ? { [IDEMPOTENCY_KEY_FIELD]: idempotencyKey } : {}),
          },
          body: JSON.stringify(order),
        },
        requestId,
      );
      const answer = body as { order_id?: unknown; issues?: FieldIssue[]; message?: string };
      if (status === 202 && typeof answer.order_id === 'string') return { order_id: answer.order_id };
      if (status === 400 && Array.isArray(answer.issues)) throw new ValidationError(answer.issues);
      throw new Error(`Unexpected answer from POST /orders: ${status} ${answer.message ?? ''}`);
    },

    async getOrder(orderId, { requestId } = {}) {
      const { status, body } = await call(`/orders/${encodeURIComponent(orderId)}`, { method: 'GET' }, requestId);
      if (status === 200) return body as StoredOrder;
      if (status === 404) return null;
      if (status === 400) throw new ValidationError((body as { issues?: FieldIssue[] }).issues ?? []);
      throw new Error(`Unexpected answer from GET /orders/{id}: ${status}`);
    },
  };
}
