import type { HelmetOptions } from 'helmet';

/**
 * The Content-Security-Policy of every page served here, the shop's and the local console's: scripts,
 * styles, requests and form posts to its own origin only; no framing, plugins or `<base>`. The pages
 * have no inline script or style, so nothing needs a nonce.
 */
export const strictContentSecurityPolicy = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  },
} satisfies HelmetOptions['contentSecurityPolicy'];
