import type { Express } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The oldest Node the web tier runs on: undici 8's (its API client). package.json's engines say the same. */
export const NODE_FLOOR = { major: 22, minor: 19 } as const;

/** Why this Node (process.versions.node) is too old for the web tier, or undefined. */
export function nodeTooOld(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > NODE_FLOOR.major || (major === NODE_FLOOR.major && minor >= NODE_FLOOR.minor);
  return ok ? undefined : `Node ${version} is older than ${NODE_FLOOR.major}.${NODE_FLOOR.minor}, the web tier's floor (undici 8): update the nodejs22 package`;
}

/** How long a connection opened just before a graceful stop has to send its request. */
const CONNECTION_GRACE_MS = 500;

/** Requests of each server that have not ended yet: what a graceful stop waits for. */
const inFlight = new WeakMap<Server, { count: number; onIdle?: () => void }>();

/**
 * Listens before there is an app to serve, for an address that must be known before the app is made
 * (the local stack's mail links); `serve` hands it its app. Keep-alive outlives the ALB's 60 s idle
 * timeout so the ALB closes first, never us mid-request.
 */
export async function listen(port: number, host: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  const requests = { count: 0 } as { count: number; onIdle?: () => void };
  inFlight.set(server, requests);
  server.on('request', (_req, res) => {
    requests.count++;
    res.once('close', () => {
      if (--requests.count === 0) requests.onIdle?.();
    });
    // Until `serve` hands it its app, a request is told to come back rather than left hanging.
    if (!served.has(server)) res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain; charset=utf-8' }).end('Starting; try again in a moment.\n');
  });
  return server;
}

const served = new WeakSet<Server>();

/** The app answers the requests of a server from `listen`. */
export function serve(app: Express, server: Server): Server {
  served.add(server);
  return server.on('request', app);
}

export async function startServer(app: Express, port: number, host: string): Promise<Server> {
  return serve(app, await listen(port, host));
}

export function serverUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * Graceful stop: health checks fail and responses say "Connection: close" so the load balancer and
 * clients move on, open status streams are dropped (their browsers reconnect elsewhere), in-flight
 * requests finish, and then every connection is closed, idle or not yet used; after `timeoutMs`
 * whatever is left is cut.
 */
export async function stopServer(app: Express, server: Server, timeoutMs: number): Promise<void> {
  app.locals.draining = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  (app.locals.closeStreams as (() => void) | undefined)?.();
  const requests = inFlight.get(server);
  server.closeIdleConnections();
  // A connection accepted just before the close (pm2's master hands it over, or the ALB opens it)
  // may not have sent its request yet; Node counts it as busy, not idle. It gets a moment to send
  // it, then every connection without a request in flight is closed.
  const afterGrace = setTimeout(() => {
    if (!requests || requests.count === 0) server.closeAllConnections();
    else requests.onIdle = () => server.closeAllConnections();
  }, Math.min(CONNECTION_GRACE_MS, timeoutMs));
  afterGrace.unref();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  timer.unref();
  await closed;
  clearTimeout(afterGrace);
  clearTimeout(timer);
}
