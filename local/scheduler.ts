import type { Context, ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { settings } from '../platform/settings.js';
import { createLambdaContext } from './lambda-context.js';

export type ScheduledHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

export interface Schedule {
  stop(): Promise<void>;
}

/** The event EventBridge Scheduler's rate rule hands the function. */
function scheduledEvent(ruleName: string, now: Date): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: settings.region,
    resources: [`arn:aws:events:${settings.region}:000000000000:rule/${ruleName}`],
    detail: {},
  };
}

/**
 * An EventBridge rate rule: invokes the function every `everySeconds`, whether or not the last run
 * has ended (as EventBridge does), but with at most two runs at once so a slow one cannot pile up.
 */
export function startSchedule({ functionName, everySeconds, handler, logger }: { functionName: string; everySeconds: number; handler: ScheduledHandler; logger: Logger }): Schedule {
  const running = new Set<Promise<unknown>>();
  let lastErrorLogAt = 0;
  const tick = () => {
    if (running.size >= 2) return;
    const run = handler(scheduledEvent(functionName, new Date()), createLambdaContext(functionName)).catch((error: unknown) => {
      // A run that throws is an invocation error (the error alarm's metric); the next tick runs again.
      if (Date.now() - lastErrorLogAt > 5000) {
        lastErrorLogAt = Date.now();
        logger.warn({ err: error, functionName }, 'scheduled run failed; the next one runs as scheduled');
      }
    });
    running.add(run);
    void run.finally(() => running.delete(run));
  };
  const timer = setInterval(tick, everySeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...running]);
    },
  };
}
