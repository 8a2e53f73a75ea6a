import { crossSiteReason, isAllowedHost, LOOPBACK_HOST_NAMES, parseHostRules } from '../../frontend/request-origin.js';

const local = parseHostRules([...LOOPBACK_HOST_NAMES, 'shop.test', 'proxy.test:8443']);

describe('the Host rules', () => {
  it.each([
    ['127.0.0.1:3000', true],
    ['localhost:3000', true],
    ['LOCALHOST:3000', true],
    ['[::1]:3000', true],
    ['sqs.us-east-1.localhost:3000', true],
    ['shop.test:3000', true],
    ['proxy.test:8443', true],
    ['127.0.0.1:3001', false],
    ['localhost', false],
    ['evil.example:3000', false],
    ['localhost.evil.example:3000', false],
    ['evillocalhost:3000', false],
    ['.localhost:3000', false],
    ['proxy.test:3000', false],
    ['127.0.0.1:3000@evil.example', false],
    ['', false],
  ])('when a request on port 3000 says Host %p, then it is allowed: %p', (host, allowed) => {
    expect(isAllowedHost(host, local, 3000)).toBe(allowed);
  });

  it('when there is no Host header, then the request is not allowed', () => {
    expect(isAllowedHost(undefined, local, 3000)).toBe(false);
  });

  it('when ALLOWED_HOSTS holds something that is not a host, then it is refused with the entry named', () => {
    expect(() => parseHostRules(['ok.test', 'http://x/'])).toThrow('not a host name: http://x/');
  });
});

describe('the cross-site rule for posts', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['a post from the shop\'s own page', { host: 'shop.example.com', origin: 'https://shop.example.com', 'sec-fetch-site': 'same-origin' }, false],
    ['a client that is not a browser (no Origin, no Sec-Fetch-Site)', { host: 'shop.example.com' }, false],
    ['the shop\'s own page under Referrer-Policy: no-referrer (Origin: null)', { host: '127.0.0.1:3000', origin: 'null', 'sec-fetch-site': 'same-origin' }, false],
    ['an older browser without Sec-Fetch-Site, from the shop\'s own page', { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }, false],
    ['a form on another site', { host: 'shop.example.com', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, true],
    ['another site, in a browser that sends only Origin', { host: '127.0.0.1:3000', origin: 'http://evil.example' }, true],
    ['a sibling site (same-site is not same-origin)', { host: 'shop.example.com', origin: 'https://blog.example.com', 'sec-fetch-site': 'same-site' }, true],
    ['another port of the same machine', { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:5173' }, true],
    ['an opaque origin (a sandboxed frame) in an older browser', { host: 'shop.example.com', origin: 'null' }, true],
    ['a cross-site post that claims the right Origin', { host: 'shop.example.com', origin: 'https://shop.example.com', 'sec-fetch-site': 'cross-site' }, true],
  ])('when it is %s, then it is refused: %p', (_what, headers, refused) => {
    expect(crossSiteReason(headers) !== undefined).toBe(refused);
  });
});
