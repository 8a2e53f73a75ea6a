import { z } from 'zod';
import { parseConfig } from '../domain/config.js';
import type { ProfileName } from './profiles.js';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const schema = z.object({
  PORT: port(3000),
  API_PORT: port(3001),
  SQS_PORT: port(4566),
  DYNAMODB_PORT: port(8000),
  CONSOLE_PORT: port(3002),
  API_KEY: z.string().regex(/^[\x21-\x7e]{8,128}$/, 'Must be 8 to 128 printable characters').default('local-dev-key'),
  LOCAL_STATE_DIR: z.string().min(1).default('.local'),
  LOCAL_PROFILE: z.enum(['default', 'fast'] satisfies ProfileName[]).default('default'),
  ADMIN_EMAIL: z.email().default('admin@example.com'),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
});

export type LocalConfig = z.output<typeof schema>;

/** The local stack's settings, from the environment, validated once. */
export function loadLocalConfig(env: Readonly<Record<string, string | undefined>>): LocalConfig {
  return parseConfig(schema, env, 'local stack');
}
