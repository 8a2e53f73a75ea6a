import * as z from 'zod/mini';

/** Configuration that cannot start the process; the message names every bad key. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${source} configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates a flat map of settings (usually the environment) once, at start. */
export function parseConfig<S extends z.core.$ZodType>(schema: S, env: Readonly<Record<string, string | undefined>>, source: string): z.output<S> {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`),
  );
}
