import { z } from 'zod';
import { parseConfig } from '../domain/config.js';
import { parseHostRules, type HostRule } from './request-origin.js';
import { settings } from '../platform/settings.js';

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const schema = z
  .object({
    PORT: int(3000, 0, 65535),
    HOST: z.string().min(1).default('0.0.0.0'),
    API_BASE_URL: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')),
    API_KEY: z.string().min(1).optional(),
    API_KEY_PARAMETER: z.string().regex(/^[A-Za-z0-9_.\-/]{1,2048}$/).optional(),
    API_TIMEOUT_MS: int(3000, 100, 60_000),
    // How long the menu read from the API is kept: a change made on another instance shows within it (docs/data-model.md).
    MENU_CACHE_SECONDS: int(settings.menu.cacheSeconds, 0, 3600),
    RATE_LIMIT_WINDOW_MS: int(60_000, 1000, 3_600_000),
    RATE_LIMIT_MAX: int(300, 1, 1_000_000),
    // Requests per second from one client, whatever its minute allows: the order API's throttle is shared
    // by every customer, and one client's burst must not spend it for them.
    RATE_LIMIT_BURST_MAX: int(20, 1, 1_000_000),
    ORDER_RATE_LIMIT_MAX: int(30, 1, 1_000_000),
    // 0: X-Forwarded-For is ignored, so a client cannot pick its own address for the rate limits.
    // Where a load balancer stands in front (the ALB), its hop is trusted: 1 in the ecosystem file and user data.
    TRUST_PROXY_HOPS: int(0, 0, 10),
    // Unset on AWS (the ALB's or the site's own name, whatever it is); the local stack sets it.
    ALLOWED_HOSTS: z
      .string()
      .optional()
      .transform((text, context): HostRule[] | undefined => {
        if (text === undefined) return undefined;
        try {
          return parseHostRules(text.split(',').map((entry) => entry.trim()).filter(Boolean));
        } catch (error) {
          context.addIssue({ code: 'custom', message: `${(error as Error).message} (a comma-separated list of host or host:port)` });
          return undefined;
        }
      }),
    SHUTDOWN_TIMEOUT_MS: int(10_000, 0, 120_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Production turns GraphQL introspection off.
    NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
    // Status pages learn of changes from order-events: each process subscribes a queue of its own,
    // named EVENT_QUEUE_PREFIX and random digits (the web role may touch only queues of that prefix).
    // Unset locally outside the stack (a web tier in front of some API): pages then hear of changes only
    // through the safety net.
    ORDER_EVENTS_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'Must be an SNS topic ARN (the backend\'s order_events_topic_arn output)').optional(),
    EVENT_QUEUE_PREFIX: z.string().regex(/^[\w-]{1,60}$/, 'Must be 1 to 60 letters, digits, _ or -').default(settings.names.webEventQueuePrefix),
    // A queue whose process has not refreshed its heartbeat tag for this long is removed by the others (a crashed process's).
    EVENT_QUEUE_STALE_SECONDS: int(300, 2, 86_400),
    // A watched order is read again when no event has come this long after its step was due (the kitchen runs every minute).
    STATUS_SAFETY_NET_MS: int(90_000, 100, 3_600_000),
    // Open status streams (SSE), at most, in this process and from one client address.
    STREAMS_MAX: int(2000, 1, 100_000),
    STREAMS_MAX_PER_CLIENT: int(20, 1, 100_000),
    AWS_REGION: z.string().optional(),
    // The customers' user pool and the web tier's app client. On AWS the SDK's own endpoint and the
    // issuer Cognito gives its pool; locally (npm start) cognito-local's endpoint and issuer.
    COGNITO_USER_POOL_ID: z.string().regex(/^[\w-]+_[0-9A-Za-z]+$/, 'Must be a user pool id such as eu-west-1_AbC123'),
    COGNITO_CLIENT_ID: z.string().regex(/^[\w+]{1,128}$/, 'Must be an app client id'),
    COGNITO_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    COGNITO_ISSUER: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')).optional(),
    // Signs the CSRF tokens. Every instance behind the load balancer must share it; unset, it is
    // derived from the API key, which they already share (read from SSM at start).
    CSRF_SECRET: z.string().min(32, 'Must be at least 32 characters').optional(),
    // Failed sign-ins allowed per window: for one account (from any client) and from one client (any accounts).
    SIGN_IN_WINDOW_MS: int(60_000, 1000, 3_600_000),
    SIGN_IN_ACCOUNT_MAX: int(10, 1, 10_000),
    SIGN_IN_CLIENT_MAX: int(30, 1, 10_000),
    // Mails with a code (sign-up, "send the code again", forgotten password) per window: to one address,
    // whichever clients ask, and asked for by one client, whichever addresses. Cognito limits them too.
    CODE_MAIL_WINDOW_MS: int(3_600_000, 1000, 86_400_000),
    CODE_MAIL_ADDRESS_MAX: int(3, 1, 10_000),
    CODE_MAIL_CLIENT_MAX: int(10, 1, 10_000),
    // Wrong codes (confirmation, password reset) per window: for one address, and from one client.
    CODE_ATTEMPT_WINDOW_MS: int(900_000, 1000, 86_400_000),
    CODE_ATTEMPT_ADDRESS_MAX: int(5, 1, 10_000),
    CODE_ATTEMPT_CLIENT_MAX: int(20, 1, 10_000),
    // The confirmation form answers no sooner than this after it was posted: it asks Cognito once or
    // twice depending on the address (see Accounts.confirmSignUp), and its time must not tell which.
    CONFIRM_ANSWER_FLOOR_MS: int(1000, 0, 10_000),
  })
  .refine((env) => env.API_KEY !== undefined || env.API_KEY_PARAMETER !== undefined, {
    path: ['API_KEY'],
    message: 'Set API_KEY, or API_KEY_PARAMETER to read it from SSM Parameter Store',
  });

export type WebConfig = z.output<typeof schema>;

/** The issuer of the pool's tokens: the one configured (cognito-local's), or Cognito's own on AWS. */
export function cognitoIssuer(config: Pick<WebConfig, 'COGNITO_ISSUER' | 'COGNITO_USER_POOL_ID' | 'AWS_REGION'>): string {
  if (config.COGNITO_ISSUER) return config.COGNITO_ISSUER;
  // A pool id starts with its region (eu-west-1_AbC123).
  const region = config.COGNITO_USER_POOL_ID.split('_')[0];
  return `https://cognito-idp.${region}.amazonaws.com/${config.COGNITO_USER_POOL_ID}`;
}

/** The web tier's settings, validated once at start. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): WebConfig {
  return parseConfig(schema, env, 'web tier');
}
