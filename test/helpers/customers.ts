// A customer of the web tier as a browser without JavaScript would be: a cookie jar, pages fetched,
// forms posted with the CSRF token of the page they came from.
import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../local/stack.js';
import { readOutbox } from './local-stack.js';

export const PASSWORD = 'Corner-shop-1';

/** The CSRF token of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('the page has no form with a CSRF token');
  return match[1];
}

export class WebClient {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page fetched that had a form. */
  csrf: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly headers: Record<string, string> = {},
  ) {}

  private remember(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute) || /^\s*max-age=0\b/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      redirect: 'manual',
      ...init,
      headers: { accept: 'text/html', ...this.headers, ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}), ...(init.headers as Record<string, string> | undefined) },
    });
    this.remember(response);
    return response;
  }

  /** A page, its HTML read and its CSRF token kept. */
  async get(path: string): Promise<{ response: Response; html: string }> {
    const response = await this.request(path);
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { response, html };
  }

  /** Posts a form, with the CSRF token of the last page unless `_csrf` is given (null: none at all). */
  async post(path: string, fields: Record<string, string>, { csrf }: { csrf?: string | null } = {}): Promise<Response> {
    const token = csrf === null ? undefined : (csrf ?? this.csrf);
    const body = new URLSearchParams({ ...fields, ...(token ? { _csrf: token } : {}) }).toString();
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  }

  /** Signs in through the sign-in page; throws unless it redirects (303). */
  async signIn(email: string, password = PASSWORD): Promise<void> {
    await this.get('/sign-in');
    const response = await this.post('/sign-in', { email, password });
    if (response.status !== 303) throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
    await this.get('/');
  }

  async signOut(): Promise<void> {
    await this.get('/');
    const response = await this.post('/sign-out', {});
    if (response.status !== 303) throw new Error(`sign-out answered ${response.status}`);
  }

  /** Sets a line's quantity, as the menu's form does. */
  async putInCart(productId: string, quantity: number): Promise<Response> {
    if (!this.csrf) await this.get('/');
    return this.post('/cart/lines', { product_id: productId, quantity: String(quantity) });
  }

  /** Checks out the cart as shown on the cart page; the order id from the redirect. */
  async checkout(): Promise<string> {
    const { html } = await this.get('/cart');
    const version = /name="cart_version" value="(\d+)"/.exec(html)?.[1];
    if (version === undefined) throw new Error('the cart page has no checkout form');
    const response = await this.post('/checkout', { cart_version: version });
    const location = response.headers.get('location') ?? '';
    const id = /^\/orders\/([0-9a-f-]{36})\?/.exec(location)?.[1];
    if (response.status !== 303 || !id) throw new Error(`checkout answered ${response.status} ${location}`);
    return id;
  }
}

/** The code of the newest Cognito mail to `email` (confirmation or password reset). */
export async function codeMailedTo(stack: LocalStack, email: string, deadlineMs = 5000): Promise<string> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const mails = (await readOutbox(stack)).filter((mail) => mail.headers.get('x-cognito-code') !== undefined && JSON.stringify(mail.to).includes(email));
    const code = mails.at(-1)?.headers.get('x-cognito-code');
    if (typeof code === 'string') return code;
    if (Date.now() > until) throw new Error(`no code was mailed to ${email}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A new, confirmed account made through the sign-up and confirmation pages; a client signed in as it. */
export async function signedInCustomer(stack: LocalStack, { name = 'Test Customer', headers = {} }: { name?: string; headers?: Record<string, string> } = {}): Promise<{ client: WebClient; email: string }> {
  const email = `c-${randomUUID()}@example.com`;
  const client = new WebClient(stack.urls.web, headers);
  await client.get('/sign-up');
  const signUp = await client.post('/sign-up', { email, name, password: PASSWORD });
  if (signUp.status !== 303) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
  await client.get(`/confirm?email=${encodeURIComponent(email)}`);
  const confirm = await client.post('/confirm', { email, code: await codeMailedTo(stack, email) });
  if (confirm.status !== 303) throw new Error(`confirm answered ${confirm.status}: ${await confirm.text()}`);
  await client.signIn(email);
  return { client, email };
}
