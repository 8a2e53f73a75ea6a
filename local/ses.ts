import sesEmulator from 'aws-ses-v2-local';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { parseHostRules, type HostRule } from '../frontend/request-origin.js';
import { emulatorRefusal, type Emulator } from './emulators.js';
import type { Outbox } from './outbox.js';

const SEND_EMAIL_PATH = '/v2/email/outbound-emails';
/** The tag a sender puts on a mail to make it once per event (notify-customer's event id). */
export const DELIVERY_KEY_TAG = 'event_id';
// What the inner server needs to let a request through: the SDK's scheme, any signature.
const INNER_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=local/ses-outbox';

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function deliveryKeyOf(request: Buffer, messageId: string): string {
  try {
    const tags = (JSON.parse(request.toString('utf8')) as { EmailTags?: { Name: string; Value: string }[] }).EmailTags ?? [];
    const tag = tags.find((candidate) => candidate.Name === DELIVERY_KEY_TAG);
    if (tag) return `ses:${tag.Value}`;
  } catch {
    // The emulator accepted it, so it was JSON; without a tag the mail is its own.
  }
  return `ses:${messageId}`;
}

/**
 * Amazon SES v2 (aws-ses-v2-local) behind the emulator guard. Each mail it accepts is put in the
 * outbox before SendEmail answers, as SES has the mail once it answers; a mail the outbox cannot
 * write gets a 500, so the sender tries again. A mail tagged `event_id` is written once per event.
 * The emulator's own store is emptied after each mail: the outbox is the record.
 */
export async function startSesEmulator({ host, port, hosts, outbox, logger }: { host: string; port: number; hosts: readonly HostRule[]; outbox: Outbox; logger: Logger }): Promise<Emulator> {
  // A CommonJS module whose default export is `exports.default`.
  const inner = await sesEmulator.default({ host: '127.0.0.1', port: 0 });
  // The emulator itself answers anything on loopback (its store and web page too): only this process may reach it.
  const [innerListener] = inner.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  inner.removeAllListeners('request');
  const innerHosts = parseHostRules(['127.0.0.1']);
  inner.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (emulatorRefusal(req.headers, innerHosts, req.socket.localPort)) return void res.writeHead(403).end();
    innerListener!(req, res);
  });
  const innerUrl = `http://127.0.0.1:${(inner.address() as AddressInfo).port}`;
  const innerFetch = (path: string, init: RequestInit = {}) => fetch(`${innerUrl}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: INNER_AUTHORIZATION } });

  // One mail at a time: the store is emptied after each, which must not drop another's.
  let sending = Promise.resolve();
  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headersDistinct)) if (value && !['host', 'connection', 'content-length'].includes(name)) headers[name] = value.join(',');
    const isSend = req.method === 'POST' && req.url === SEND_EMAIL_PATH;
    const work = async () => {
      const answer = await innerFetch(req.url ?? '/', { method: req.method ?? 'GET', headers, ...(body.length > 0 ? { body: new Uint8Array(body) } : {}) });
      const text = Buffer.from(await answer.arrayBuffer());
      if (isSend && answer.ok) {
        const { MessageId } = JSON.parse(text.toString('utf8')) as { MessageId: string };
        const eml = (await (await innerFetch(`/get-emlContent?messageId=${encodeURIComponent(MessageId)}`)).json()) as { body: { data: number[] } };
        const raw = Buffer.from(eml.body.data);
        const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(raw.toString('utf8'))?.[1] ?? '';
        await outbox.send({ from: header('From'), to: header('To'), subject: header('Subject'), raw }, { key: deliveryKeyOf(body, MessageId), source: 'ses' });
        await innerFetch('/clear-store', { method: 'POST' });
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'x-amzn-requestid': answer.headers.get('x-amzn-requestid') ?? 'local' });
      res.end(text);
    };
    if (!isSend) return work();
    const turn = sending.then(work);
    sending = turn.catch(() => undefined);
    return turn;
  }

  const server = createServer((req, res) => {
    const reason = emulatorRefusal(req.headers, hosts, req.socket.localPort);
    if (reason) {
      req.resume();
      return void res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`Forbidden. ${reason}\n`);
    }
    forward(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'ses: the mail was not put in the outbox; the sender will try again');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'InternalFailure: the local outbox could not take the mail' }));
      else res.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    inner.close();
    throw error;
  }
  const close = (target: typeof server) =>
    new Promise<void>((resolve) => {
      target.closeAllConnections();
      target.close(() => resolve());
    });
  return {
    endpoint: `http://${host}:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      await close(server);
      await close(inner);
    },
  };
}
