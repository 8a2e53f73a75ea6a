import { z } from 'zod';
import { parseConfig } from '../domain/config.js';
import { parseHostRules } from '../frontend/request-origin.js';
import { QUEUE_TYPES } from '../platform/settings.js';
import type { ProfileName } from './profiles.js';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** The variable that sets each part's port, as the messages about ports name them. */
export const PORT_VARIABLES = { web: 'PORT', api: 'API_PORT', sqs: 'SQS_PORT', dynamodb: 'DYNAMODB_PORT', cognito: 'COGNITO_PORT', ses: 'SES_PORT', console: 'CONSOLE_PORT' } as const;
export type PortName = keyof typeof PORT_VARIABLES;

const hostList = z
  .string()
  .default('')
  .transform((text, context) => {
    const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
    try {
      parseHostRules(entries);
    } catch (error) {
      context.addIssue({ code: 'custom', message: `${(error as Error).message} (a comma-separated list of host or host:port)` });
    }
    return entries;
  });

const schema = z
  .object({
    PORT: port(3000),
    API_PORT: port(3001),
    SQS_PORT: port(4566),
    DYNAMODB_PORT: port(8000),
    CONSOLE_PORT: port(3002),
    COGNITO_PORT: port(9229),
    SES_PORT: port(8005),
    API_KEY: z.string().regex(/^[\x21-\x7e]{8,128}$/, 'Must be 8 to 128 printable characters').default('local-dev-key'),
    LOCAL_STATE_DIR: z.string().min(1).default('.local'),
    LOCAL_PROFILE: z.enum(['default', 'fast'] satisfies ProfileName[]).default('default'),
    /** The orders queue's type, as Terraform's queue_type: `fifo` keeps each customer's orders in order. */
    QUEUE_TYPE: z.enum(QUEUE_TYPES).default('standard'),
    ADMIN_EMAIL: z.email().default('admin@example.com'),
    /** Mail the admin every order received, besides the DLQ alarm (off, as in Terraform's default). */
    ADMIN_ORDER_MAIL: z.stringbool().default(false),
    SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
    /** Host names the local servers answer to besides 127.0.0.1, localhost and *.localhost. */
    ALLOWED_HOSTS: hostList,
  })
  .superRefine((config, context) => {
    // Two parts on one port: the second would fail to listen; say which two before starting either.
    const seen = new Map<number, string>();
    for (const variable of Object.values(PORT_VARIABLES)) {
      const value = config[variable];
      if (value === 0) continue;
      const other = seen.get(value);
      if (other) context.addIssue({ code: 'custom', path: [variable], message: `${value} is also ${other}; give each part its own port` });
      else seen.set(value, variable);
    }
  });

export type LocalConfig = z.output<typeof schema>;

/** The local stack's settings, from the environment, validated once. */
export function loadLocalConfig(env: Readonly<Record<string, string | undefined>>): LocalConfig {
  return parseConfig(schema, env, 'local stack');
}
