import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { settings } from './settings.js';

/** The context object Lambda passes a handler, for one invocation. */
export function createLambdaContext(functionName: string): Context {
  const functions: Record<string, { memoryMb: number; timeoutSeconds: number }> = settings.lambda.functions;
  const { memoryMb, timeoutSeconds } = functions[functionName] ?? { memoryMb: 128, timeoutSeconds: 30 };
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${settings.region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
