/** Posts the order form as a browser would (urlencoded), without following the redirect. */
export function postForm(webUrl: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${webUrl}/orders`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The hidden idempotency key of a rendered form. */
export function idempotencyKeyOf(html: string): string {
  const match = /name="idempotency_key" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('the form has no idempotency key');
  return match[1];
}

/** The order id of a redirect to a status page (`/orders/<id>?placed=...`). */
export function orderIdOfLocation(location: string | null): string {
  const id = new URL(location ?? '', 'http://web.invalid').pathname.split('/').pop();
  if (!location || !id) throw new Error(`not a status page location: ${location}`);
  return id;
}
