// Who a request comes from, as far as the headers say: the Host it was sent to and the site that
// made the browser send it. Used by the web tier and, through local/, by every local server.
import type { IncomingHttpHeaders } from 'node:http';

/** An allowed Host: a name (`*.` matches any subdomain) and a port; no port means the server's own. */
export interface HostRule {
  name: string;
  port?: number;
}

/** The names every local server answers to: loopback, and `*.localhost`, which browsers resolve to loopback themselves. */
export const LOOPBACK_HOST_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]', '*.localhost'];

/** Splits a Host header (`name`, `name:port`, `[v6]:port`) into its name and port (80 when absent). */
function splitHost(host: string): { name: string; port: number } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(host.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), port: match[2] === undefined ? 80 : Number(match[2]) };
}

/** `host` or `host:port` entries, as ALLOWED_HOSTS lists them; throws on one that is not a host. */
export function parseHostRules(entries: readonly string[]): HostRule[] {
  return entries.map((entry) => {
    const wildcard = entry.startsWith('*.');
    const parsed = splitHost(wildcard ? entry.slice(2) : entry);
    if (!parsed || parsed.port > 65_535) throw new Error(`not a host name: ${entry}`);
    const name = `${wildcard ? '*.' : ''}${parsed.name}`;
    return /:\d+$/.test(entry) ? { name, port: parsed.port } : { name };
  });
}

/**
 * Whether a request's Host header is one the server answers to. A rule without a port takes the
 * port the request came in on, so a server on a port picked at start needs no rule of its own.
 * Checking the Host is what stops DNS rebinding: a page on evil.example that makes its name point
 * at 127.0.0.1 still sends `Host: evil.example`.
 */
export function isAllowedHost(host: string | undefined, rules: readonly HostRule[], localPort: number | undefined): boolean {
  const parsed = host === undefined ? undefined : splitHost(host);
  if (!parsed) return false;
  return rules.some((rule) => {
    const port = rule.port ?? localPort;
    if (port !== parsed.port) return false;
    if (rule.name.startsWith('*.')) return parsed.name.endsWith(rule.name.slice(1)) && parsed.name.length > rule.name.length - 1;
    return parsed.name === rule.name;
  });
}

/**
 * Why a state-changing request looks like it came from another site, or undefined when it did not.
 * Browsers send `Sec-Fetch-Site` (all current ones) and `Origin` with every form post; a request
 * with neither is not from a browser (curl, a test, a server), and no other site can make a browser
 * send it. `Sec-Fetch-Site` decides when it is there: under `Referrer-Policy: no-referrer` (helmet's
 * default) a browser sends `Origin: null` even for a post from the page's own site.
 */
export function crossSiteReason(headers: IncomingHttpHeaders): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? undefined : `Sec-Fetch-Site is ${String(site)}`;
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string | undefined;
  try {
    originHost = origin === 'null' ? undefined : new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  const host = headers.host?.toLowerCase();
  if (originHost === undefined || originHost.toLowerCase() !== host) return `Origin ${origin} is not this site (${host ?? 'no Host'})`;
  return undefined;
}
