import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  AppError,
  DependencyUnavailableError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
  HTTP_STATUS_BY_CODE,
} from '../../domain/errors.js';
import { isOrderId, MAX_BODY_BYTES, parseJson } from '../../domain/order.js';

const BASE_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/** A JSON answer for API Gateway's proxy integration. */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/**
 * The one place a Lambda turns an error into an answer: AppErrors keep their safe message,
 * anything else is logged with the request id and answered as a bare 500.
 */
export function toApiResponse(error: unknown, logger: Logger, requestId: string): APIGatewayProxyResult {
  if (error instanceof AppError) {
    const status = HTTP_STATUS_BY_CODE[error.code];
    const log = status >= 500 ? logger.error.bind(logger) : logger.info.bind(logger);
    log('Request refused', { request_id: requestId, code: error.code, reason: error.message, error: status >= 500 ? error : undefined });
    const headers: Record<string, string> =
      error instanceof DependencyUnavailableError ? { 'Retry-After': String(error.retryAfterSeconds) } : {};
    return jsonResponse(
      status,
      {
        error: error.code,
        message: error.message,
        ...(error instanceof ValidationError ? { issues: error.issues } : {}),
        request_id: requestId,
      },
      headers,
    );
  }
  logger.error('Unhandled error', { request_id: requestId, error: error as Error });
  return jsonResponse(500, { error: 'internal_error', message: 'Internal server error', request_id: requestId });
}

/** A header of a proxy event, whatever its case. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** The event's body as JSON, refusing the wrong media type, oversize bodies and bad JSON. */
export function readJsonBody(event: APIGatewayProxyEvent, maxBytes: number = MAX_BODY_BYTES): unknown {
  const contentType = header(event, 'content-type') ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new UnsupportedMediaTypeError('application/json');
  const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '');
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  if (body.trim() === '') throw new ValidationError([{ field: 'body', message: 'Required: send the order as a JSON object' }]);
  return parseJson(body);
}

/** The ids of `?ids=a,b,c`: 1 to `max` order ids, each named if it is not one; `allowed` the other parameters. */
export function orderIdsOf(query: Record<string, string | undefined> | null, max: number, allowed: readonly string[] = []): string[] {
  const unknown = Object.keys(query ?? {}).filter((name) => name !== 'ids' && !allowed.includes(name));
  if (unknown.length > 0) throw new ValidationError(unknown.map((name) => ({ field: name, message: 'Unknown query parameter' })));
  const ids = (query?.ids ?? '').split(',').filter((id) => id !== '');
  if (ids.length === 0 || ids.length > max) throw new ValidationError([{ field: 'ids', message: `Must be 1 to ${max} order ids, separated by commas` }]);
  const bad = ids.flatMap((id, i) => (isOrderId(id) ? [] : [{ field: `ids[${i}]`, message: 'Must be an order id (a UUID)' }]));
  if (bad.length > 0) throw new ValidationError(bad);
  return ids;
}
