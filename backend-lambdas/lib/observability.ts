import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';

/** The business events each function counts, in namespace OrderPipeline with the function as `service`. */
export type BusinessMetric = 'OrdersAccepted' | 'OrdersStored' | 'OrdersFailed' | 'OrdersDeadLettered' | 'StatusChanges' | 'OrdersCancelled';

/** What a function needs of Powertools Metrics: counts, flushed as one EMF line when an invocation ends. */
export interface MetricsRecorder {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void;
  hasStoredMetrics(): boolean;
  publishStoredMetrics(): void;
}

export const METRICS_NAMESPACE = 'OrderPipeline';

/** Counts `value` business events (none when 0). */
export function count(metrics: MetricsRecorder | undefined, name: BusinessMetric, value = 1): void {
  if (value > 0) metrics?.addMetric(name, MetricUnit.Count, value);
}

/**
 * A handler in its own X-Ray subsegment (Powertools Tracer's manual instrumentation; a no-op off
 * Lambda), with its metrics published when it ends, however it ends.
 */
export function instrumented<Event, Result>(
  name: string,
  { tracer, metrics }: { tracer?: Tracer | undefined; metrics?: MetricsRecorder | undefined },
  handler: (event: Event, context: Context) => Promise<Result>,
): (event: Event, context: Context) => Promise<Result> {
  return async (event, context) => {
    const segment = tracer?.isTracingEnabled() ? tracer.getSegment() : undefined;
    const subsegment = segment?.addNewSubsegment(`## ${name}`);
    if (tracer && subsegment) {
      tracer.setSegment(subsegment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      return await handler(event, context);
    } catch (error) {
      tracer?.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      if (tracer && subsegment && segment) {
        subsegment.close();
        tracer.setSegment(segment);
      }
      // Only when something was counted: Powertools warns in the log at every flush of none, which
      // for the read routes (a status page's every poll) would be a warning per request.
      if (metrics?.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
