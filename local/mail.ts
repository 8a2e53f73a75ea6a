import { ListSubscriptionsByTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { REGION_NAME } from './alarm.js';
import { startEventSourceMapping } from './event-source-mapping.js';
import type { Outbox } from './outbox.js';
import type { QueueRef } from './resources.js';

/** The envelope SNS wraps around a message it delivers to an SQS subscription. */
interface SnsNotification {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

interface CloudWatchAlarmMessage {
  AlarmName: string;
  AlarmDescription?: string;
  AWSAccountId: string;
  NewStateValue: string;
  OldStateValue: string;
  NewStateReason: string;
  StateChangeTime: string;
  AlarmArn: string;
  Trigger: {
    MetricName: string;
    Namespace: string;
    Statistic: string;
    Dimensions: { name: string; value: string }[];
    Period: number;
    EvaluationPeriods: number;
    ComparisonOperator: string;
    Threshold: number;
    TreatMissingData: string;
  };
}

export interface MailDeliveryOptions {
  sqs: SQSClient;
  sns: SNSClient;
  queue: QueueRef;
  outbox: Outbox;
  logger: Logger;
}

export interface MailDelivery {
  stop(): Promise<void>;
}

function isAlarm(value: unknown): value is CloudWatchAlarmMessage {
  return typeof value === 'object' && value !== null && 'AlarmName' in value && 'NewStateValue' in value && 'Trigger' in value;
}

/** The text CloudWatch sends to an email subscriber of an alarm's topic. */
export function alarmMailText(alarm: CloudWatchAlarmMessage): string {
  const t = alarm.Trigger;
  const dimensions = t.Dimensions.map((dimension) => `${dimension.name} = ${dimension.value}`).join(', ');
  return [
    `You are receiving this email because your Amazon CloudWatch Alarm "${alarm.AlarmName}" in the ${REGION_NAME} region has entered the ${alarm.NewStateValue} state, because "${alarm.NewStateReason}" at "${alarm.StateChangeTime}".`,
    '',
    'Alarm Details:',
    `- Name:                       ${alarm.AlarmName}`,
    `- Description:                ${alarm.AlarmDescription ?? ''}`,
    `- State Change:               ${alarm.OldStateValue} -> ${alarm.NewStateValue}`,
    `- Reason for State Change:    ${alarm.NewStateReason}`,
    `- Timestamp:                  ${alarm.StateChangeTime}`,
    `- AWS Account:                ${alarm.AWSAccountId}`,
    `- Alarm Arn:                  ${alarm.AlarmArn}`,
    '',
    'Threshold:',
    `- The alarm is in the ALARM state when the metric is ${t.ComparisonOperator} ${t.Threshold.toFixed(1)} for at least ${t.EvaluationPeriods} of the last ${t.EvaluationPeriods} period(s) of ${t.Period} seconds.`,
    '',
    'Monitored Metric:',
    `- MetricNamespace:            ${t.Namespace}`,
    `- MetricName:                 ${t.MetricName}`,
    `- Dimensions:                 [${dimensions}]`,
    `- Period:                     ${t.Period} seconds`,
    `- Statistic:                  ${t.Statistic}`,
    `- TreatMissingData:           ${t.TreatMissingData}`,
  ].join('\n');
}

function mailText(notification: SnsNotification): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(notification.Message);
  } catch {
    parsed = undefined;
  }
  const body = isAlarm(parsed) ? alarmMailText(parsed) : notification.Message;
  return `${body}\n\n--\nSent by the local stack for SNS topic ${notification.TopicArn} (message ${notification.MessageId}).\n`;
}

/**
 * What makes two notifications the same mail: the event's own id when the publisher gives one (an
 * "order received" published again on a duplicate delivery has a new SNS message id but the same
 * event_id), else the SNS message id (the same message delivered again, or put back after a restart).
 */
export function deliveryKey(notification: Pick<SnsNotification, 'MessageId' | 'MessageAttributes'>): string {
  const eventId = notification.MessageAttributes?.event_id?.Value;
  return eventId ? `event:${eventId}` : `sns:${notification.MessageId}`;
}

/**
 * SNS email delivery, which the emulator does not do: every message published to a topic with
 * email subscribers becomes a MIME mail in `mailDir` (and goes to SMTP when a URL is given).
 *
 * Each event is mailed once, across restarts too: the mail's file is the record that it was sent.
 * It is written under a temporary name and renamed into place, so a crash leaves either no mail (its
 * message is still on the queue and is delivered again) or the whole mail, whose tag, read back at
 * start, makes the next delivery of that message a no-op.
 */
export function startMailDelivery({ sqs, sns, queue, outbox, logger }: MailDeliveryOptions): MailDelivery {
  async function recipientsOf(topicArn: string): Promise<string[]> {
    const recipients: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
      for (const subscription of page.Subscriptions ?? []) {
        if ((subscription.Protocol === 'email' || subscription.Protocol === 'email-json') && subscription.Endpoint) {
          recipients.push(subscription.Endpoint);
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return recipients;
  }

  async function deliver(notification: SnsNotification): Promise<void> {
    const recipients = await recipientsOf(notification.TopicArn);
    if (recipients.length === 0) return;
    const topic = notification.TopicArn.split(':').pop() ?? 'topic';
    const mail = {
      from: '"AWS Notifications" <no-reply@sns.amazonaws.com>',
      to: recipients,
      subject: notification.Subject ?? 'AWS Notification Message',
      text: mailText(notification),
      date: new Date(notification.Timestamp),
      headers: {
        'X-SNS-Topic-Arn': notification.TopicArn,
        'X-SNS-Message-Id': notification.MessageId,
        ...(notification.MessageAttributes?.event_id ? { 'X-Event-Id': notification.MessageAttributes.event_id.Value } : {}),
      },
    };
    await outbox.send(mail, { key: deliveryKey(notification), source: topic });
  }

  const delivery = startEventSourceMapping({
    sqs,
    queue,
    functionName: 'local-email-delivery',
    logger,
    concurrency: 1,
    createHandler: () => async (event) => {
      const batchItemFailures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        try {
          await deliver(JSON.parse(record.body) as SnsNotification);
        } catch (error) {
          logger.warn({ err: error }, 'mail delivery failed; the message will be retried');
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    },
  });

  return {
    async stop() {
      await delivery.stop();
    },
  };
}
