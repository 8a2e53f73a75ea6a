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

  async function call(path: string, init: RequestInit, requestId?: string): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        ...init,
        headers: {
          accept: 'application/json',
          'x-api-key': apiKey,
          ...(requestId ? { 'x-request-id': requestId } : {}),
          ...(init.headers as Record<string, string>),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw unavailable(error);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw unavailable(error);
    }
    if (response.status === 429 || response.status >= 500) throw unavailable(new Error(`API answered ${response.status}`));
    if (response.status === 403) throw unavailable(new Error('API refused the API key (403); check API_KEY or API_KEY_PARAMETER'));
    return { status: response.status, body };
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
