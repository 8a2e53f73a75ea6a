import type { LifecycleTimings } from '../domain/lifecycle.js';
import { settings } from '../platform/settings.js';

export type ProfileName = 'default' | 'fast';

/** The local stack's timings: AWS's by default; `fast` makes the failure path and an order's life take seconds. */
export interface Profile {
  name: ProfileName;
  visibilityTimeoutSeconds: number;
  alarmPeriodSeconds: number;
  /** How often scheduled functions run; undefined runs each at its own schedule's rate. */
  scheduleEverySeconds: number | undefined;
  lifecycleTimings: LifecycleTimings;
}

export const profiles: Record<ProfileName, Profile> = {
  default: {
    name: 'default',
    visibilityTimeoutSeconds: settings.queue.visibilityTimeoutSeconds,
    alarmPeriodSeconds: settings.alarm.periodSeconds,
    scheduleEverySeconds: undefined,
    lifecycleTimings: settings.lifecycle.timingsSeconds,
  },
  fast: {
    name: 'fast',
    visibilityTimeoutSeconds: 2,
    alarmPeriodSeconds: 2,
    scheduleEverySeconds: 1,
    lifecycleTimings: { RECEIVED: 2, PREPARING: 3, READY: 2 },
  },
};
