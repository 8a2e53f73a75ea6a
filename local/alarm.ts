import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { QueueRef } from './resources.js';
import { settings } from '../platform/settings.js';

export type AlarmState = 'INSUFFICIENT_DATA' | 'OK' | 'ALARM';

export interface AlarmTransition {
  time: string;
  from: AlarmState;
  to: AlarmState;
  reason: string;
}

export interface AlarmEvaluator {
  readonly name: string;
  readonly state: AlarmState;
  readonly history: readonly AlarmTransition[];
  /** One evaluation now; the timer calls this every period. */
  evaluate(): Promise<void>;
  stop(): void;
}

export interface AlarmOptions {
  sqs: SQSClient;
  sns: SNSClient;
  queue: QueueRef;
  topicArn: string;
  periodSeconds: number;
  logger: Logger;
  clock?: () => Date;
}

export const REGION_NAME = 'US East (N. Virginia)';
const ACCOUNT_ID = '000000000000';

function cloudWatchTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/**
 * The CloudWatch alarm on the DLQ's depth: each period it reads ApproximateNumberOfMessagesVisible,
 * and on every change of state publishes CloudWatch's alarm message to the ops topic.
 */
export function startAlarmEvaluator({ sqs, sns, queue, topicArn, periodSeconds, logger, clock = () => new Date() }: AlarmOptions): AlarmEvaluator {
  const { alarm } = settings;
  const name = settings.names.dlqAlarm;
  const datapoints: number[] = [];
  const history: AlarmTransition[] = [];
  let state: AlarmState = 'INSUFFICIENT_DATA';
  let running: Promise<void> | undefined;
  const configuredAt = cloudWatchTime(clock());

  function breaches(value: number): boolean {
    return value >= alarm.threshold;
  }

  async function transition(to: AlarmState, reason: string, now: Date) {
    const from = state;
    state = to;
    history.push({ time: now.toISOString(), from, to, reason });
    logger.info({ alarm: name, from, to, reason }, 'alarm state changed');
    // Like CloudWatch, the first OK after creation has nothing to report to a person: only real changes mail.
    if (from === 'INSUFFICIENT_DATA' && to === 'OK') return;
    const message = {
      AlarmName: name,
      AlarmDescription: `Orders failed ${settings.queue.maxReceiveCount} times and wait in the dead-letter queue ${queue.name}.`,
      AWSAccountId: ACCOUNT_ID,
      AlarmConfigurationUpdatedTimestamp: configuredAt,
      NewStateValue: to,
      NewStateReason: reason,
      StateChangeTime: cloudWatchTime(now),
      Region: REGION_NAME,
      AlarmArn: `arn:aws:cloudwatch:${settings.region}:${ACCOUNT_ID}:alarm:${name}`,
      OldStateValue: from,
      OKActions: [topicArn],
      AlarmActions: [topicArn],
      InsufficientDataActions: [],
      Trigger: {
        MetricName: alarm.metricName,
        Namespace: alarm.namespace,
        StatisticType: 'Statistic',
        Statistic: alarm.statistic.toUpperCase(),
        Unit: null,
        Dimensions: [{ value: queue.name, name: 'QueueName' }],
        Period: periodSeconds,
        EvaluationPeriods: alarm.evaluationPeriods,
        DatapointsToAlarm: alarm.evaluationPeriods,
        ComparisonOperator: alarm.comparisonOperator,
        Threshold: alarm.threshold,
        TreatMissingData: alarm.treatMissingData,
        EvaluateLowSampleCountPercentile: '',
      },
    };
    try {
      await sns.send(
        new PublishCommand({ TopicArn: topicArn, Subject: `${to}: "${name}" in ${REGION_NAME}`, Message: JSON.stringify(message) }),
      );
    } catch (error) {
      logger.error({ err: error, alarm: name }, 'could not publish the alarm notification');
    }
  }

  async function evaluateOnce() {
    let value: number;
    try {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      value = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
    } catch (error) {
      logger.warn({ err: error, alarm: name }, 'could not read the metric; state kept');
      return;
    }
    datapoints.push(value);
    if (datapoints.length > alarm.evaluationPeriods) datapoints.shift();
    if (datapoints.length < alarm.evaluationPeriods) return;

    const breaching = datapoints.filter(breaches).length;
    const now = clock();
    const shown = `[${datapoints.map((point) => `${point.toFixed(1)} (${now.toISOString()})`).join(', ')}]`;
    const total = datapoints.length;
    if (breaching === total && state !== 'ALARM') {
      await transition(
        'ALARM',
        `Threshold Crossed: ${breaching} out of the last ${total} datapoints ${shown} was greater than or equal to the threshold (${alarm.threshold.toFixed(1)}) (minimum ${total} datapoint for OK -> ALARM transition).`,
        now,
      );
    } else if (breaching === 0 && state !== 'OK') {
      await transition(
        'OK',
        `Threshold Crossed: ${total} out of the last ${total} datapoints ${shown} was not greater than or equal to the threshold (${alarm.threshold.toFixed(1)}) (minimum ${total} datapoint for ALARM -> OK transition).`,
        now,
      );
    }
  }

  function evaluate(): Promise<void> {
    // One evaluation at a time: a slow read must not let two periods race each other.
    running ??= evaluateOnce().finally(() => (running = undefined));
    return running;
  }

  const timer = setInterval(() => void evaluate(), periodSeconds * 1000);
  timer.unref();

  return {
    name,
    get state() {
      return state;
    },
    history,
    evaluate,
    stop: () => clearInterval(timer),
  };
}
