import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

export interface AwsEndpointOptions {
  region?: string | undefined;
  endpoint?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Long enough for the slowest call the client makes: a 20 s long poll needs more than the default. */
  requestTimeoutMs?: number;
  /**
   * Connections kept per endpoint. A request waiting for one counts against the 1 s connection
   * timeout, so a client shared by many concurrent callers needs as many as it has callers.
   */
  maxSockets?: number;
}

/**
 * Client settings shared by every AWS SDK client here: kept-alive connections, and short
 * timeouts so a dependency that hangs turns into a quick 503 instead of a timed-out Lambda.
 */
export function awsClientConfig({ region, endpoint, credentials, requestTimeoutMs = 5_000, maxSockets = 64 }: AwsEndpointOptions = {}) {
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 1_000,
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    }),
  };
}
