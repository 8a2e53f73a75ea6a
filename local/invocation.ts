import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';

/** An X-Ray trace header, as Lambda's runtime gives each invocation. */
export function newTraceHeader(now = Date.now()): string {
  return `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
}

/**
 * Runs every invocation of the local functions in its own Lambda invoke context, with the runtime's
 * own store (@aws/lambda-invoke-store, as on Lambda with several invocations per environment): its
 * request id and trace id are what Powertools Logger writes into each line of that invocation, and
 * one line per invocation says how it went, as Lambda's REPORT line does.
 */
export async function createInvoker(logger: Logger) {
  const store = await InvokeStore.getInstanceAsync(true);
  return function invoke<Result>(functionName: string, context: Context, run: () => Promise<Result>): Promise<Result> {
    const trace = newTraceHeader();
    const started = performance.now();
    const report = (outcome: string) =>
      logger.info({ function: functionName, request_id: context.awsRequestId, xray_trace_id: trace.slice(5, trace.indexOf(';')), duration_ms: Math.round(performance.now() - started), outcome }, 'invocation');
    return store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId, [InvokeStoreBase.PROTECTED_KEYS.X_RAY_TRACE_ID]: trace }, async () => {
      try {
        const result = await run();
        report('ok');
        return result;
      } catch (error) {
        report('error');
        throw error;
      }
    });
  };
}

export type Invoker = Awaited<ReturnType<typeof createInvoker>>;
