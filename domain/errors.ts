import type * as z from 'zod/mini';

/** One problem with one field of an input; `field` is the contract's name for it. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export type ErrorCode =
  | 'validation_error'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'not_found'
  | 'unauthorized'
  | 'conflict'
  | 'illegal_transition'
  | 'dependency_unavailable';

/** The HTTP status each error code answers with, at every entry point. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  validation_error: 400,
  invalid_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  unauthorized: 401,
  conflict: 409,
  illegal_transition: 409,
  dependency_unavailable: 503,
};

/** An error whose message is safe to show to the caller; entry points map its code to a status. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input breaks the order contract; `issues` names every bad field. */
export class ValidationError extends AppError {
  constructor(readonly issues: readonly FieldIssue[]) {
    const fields = [...new Set(issues.map((issue) => issue.field))];
    super('validation_error', `Invalid ${fields.length === 1 ? 'field' : 'fields'}: ${fields.join(', ')}`);
  }
}

/** The request body is not JSON. */
export class InvalidJsonError extends AppError {
  constructor() {
    super('invalid_json', 'The request body is not valid JSON');
  }
}

/** The request body is not of a media type we accept. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(expected: string) {
    super('unsupported_media_type', `Content-Type must be ${expected}`);
  }
}

/** The request body is larger than the contract allows. */
export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super('payload_too_large', `The request body is larger than ${limitBytes} bytes`);
  }
}

/** The thing asked for does not exist (yet). */
export class NotFoundError extends AppError {
  constructor(what: string) {
    super('not_found', `${what} was not found`);
  }
}

/** The request carries no customer (no valid token where one is needed). */
export class UnauthorizedError extends AppError {
  constructor(message = 'Sign in first: this needs a customer') {
    super('unauthorized', message);
  }
}

/** The thing changed between reading and writing it; the caller should look again. */
export class ConflictError extends AppError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** A dependency (queue, table, API) did not answer; the caller should retry later. */
export class DependencyUnavailableError extends AppError {
  constructor(
    dependency: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super('dependency_unavailable', `The ${dependency} is unavailable; try again in ${retryAfterSeconds} seconds`, options);
  }
}

/** zod's issues as the API names them: one per field (`lines.3.product_id`), one per unknown field. */
export function toFieldIssues(error: z.core.$ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length > 0 ? `${issue.path.map(String).join('.')}.` : '';
      return issue.keys.map((key) => ({ field: key === '' ? `${prefix}(empty name)` : `${prefix}${key}`, message: 'Unknown field' }));
    }
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    return [{ field, message: issue.message }];
  });
}
