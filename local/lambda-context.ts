import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { functions, type FunctionSpec } from '../platform/functions.js';
import { settings } from '../platform/settings.js';

/** The context object Lambda passes a handler, for one invocation. */
export function createLambdaContext(functionName: string): Context {
  const spec: Pick<FunctionSpec, 'memoryMb' | 'timeoutSeconds'> = (functions as Record<string, FunctionSpec>)[functionName] ?? { memoryMb: 128, timeoutSeconds: 30 };
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${settings.region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
