import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from 'pino';
import { METRICS_NAMESPACE } from '../backend-lambdas/lib/observability.js';

type Emf = ReturnType<Metrics['serializeMetrics']>;

/** Every business metric the functions have published since the stack started, by name. */
export interface MetricsTally {
  counts(): Readonly<Record<string, number>>;
  record(emf: Emf): void;
}

/** Adds up EMF lines the way CloudWatch would sum their Count metrics. */
export function createMetricsTally(logger: Logger): MetricsTally {
  const totals: Record<string, number> = {};
  return {
    counts: () => ({ ...totals }),
    record(emf) {
      // The EMF line itself, in the stack's log, as CloudWatch Logs would receive it.
      logger.info({ emf }, 'metrics');
      for (const { Metrics: definitions } of emf._aws.CloudWatchMetrics) {
        for (const { Name } of definitions) {
          const value = emf[Name];
          const values = Array.isArray(value) ? value : [value];
          totals[Name] = (totals[Name] ?? 0) + values.reduce((sum: number, item) => sum + Number(item), 0);
        }
      }
    },
  };
}

/**
 * Powertools Metrics, serialized to EMF as on Lambda, but handed to the local stack's log and tally
 * instead of stdout (where every invocation's line would flood the terminal).
 */
export class LocalMetrics extends Metrics {
  constructor(
    serviceName: string,
    private readonly tally: MetricsTally,
  ) {
    super({ namespace: METRICS_NAMESPACE, serviceName });
  }

  override publishStoredMetrics(): this {
    if (this.hasStoredMetrics()) this.tally.record(this.serializeMetrics());
    this.clearMetrics();
    return this;
  }
}
