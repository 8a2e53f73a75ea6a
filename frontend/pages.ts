import type { Request, Response } from 'express';
import { AppError, DependencyUnavailableError, HTTP_STATUS_BY_CODE } from '../domain/errors.js';
import { MAX_BODY_BYTES } from '../domain/order.js';

export interface PageMessage {
  title: string;
  message: string;
}

/** What a page shows for an error, whatever threw it. */
export function describeError(error: unknown): PageMessage & { status: number; retryAfter?: number } {
  if (error instanceof DependencyUnavailableError) {
    return {
      status: 503,
      title: 'We could not take your order just now',
      message: 'Our order service is busy or unavailable. Nothing was charged; please try again in a moment.',
      retryAfter: error.retryAfterSeconds,
    };
  }
  if (error instanceof AppError) return { status: HTTP_STATUS_BY_CODE[error.code], title: 'Something is wrong with that request', message: error.message };
  // Errors of body-parser and friends carry a status and say whether their message is safe to show.
  const httpError = error as { status?: unknown; expose?: unknown; type?: unknown };
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    const tooLarge = httpError.type === 'entity.too.large' || httpError.type === 'parameters.too.many';
    return {
      status: tooLarge ? 413 : httpError.status,
      title: tooLarge ? 'That form is too large' : 'Something is wrong with that request',
      message: tooLarge ? `Forms may be at most ${MAX_BODY_BYTES} bytes.` : 'The request could not be read.',
    };
  }
  return { status: 500, title: 'Something went wrong', message: 'Sorry, we could not complete that. Please try again.' };
}

export function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

/** An answer that is not a page of its own: JSON for scripts, the error page for people. */
export function respond(req: Request, res: Response, status: number, page: PageMessage): void {
  res.status(status);
  if (wantsJson(req)) res.json({ error: page.title, message: page.message });
  else res.render('error', { ...page, status });
}
