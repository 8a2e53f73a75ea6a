import type { Express } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening; keep-alive outlives the ALB's 60 s idle timeout so the ALB closes first, never us mid-request. */
export async function startServer(app: Express, port: number, host: string): Promise<Server> {
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  return server;
}

export function serverUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Graceful stop: health checks fail and responses say "Connection: close" so the load balancer and
 * clients move on, in-flight requests finish, idle sockets close; after `timeoutMs` the rest are cut.
 */
export async function stopServer(app: Express, server: Server, timeoutMs: number): Promise<void> {
  app.locals.draining = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  (app.locals.closeStreams as (() => void) | undefined)?.();
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}
