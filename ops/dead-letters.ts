import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isFifoQueue } from '../backend-lambdas/lib/fifo.js';
import { fifoGroupOfBody } from '../domain/order.js';

/** The group a dead letter goes back in when its body names no customer (a FIFO queue takes no message without one). */
export const UNKNOWN_CUSTOMER_GROUP = 'unknown-customer';

export interface DeadLetter {
  messageId: string;
  orderId: string | undefined;
  body: string;
  receiveCount: number;
  ageSeconds: number;
}

export interface RedriveResult {
  moved: number;
  failed: number;
  method: 'StartMessageMoveTask' | 'receive-send-delete';
}

// Characters that move the cursor, end a line or reorder text on a terminal: a body holding them could
// print what looks like another message's entry. Backslash too, so an escape cannot be faked either.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\\\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Text as one safe line: control and bidirectional characters written as escapes (\n, \u001b, \u202e). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The order id in a message body, when it has one. */
export function orderIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { order_id?: unknown };
    return typeof parsed.order_id === 'string' ? parsed.order_id : undefined;
  } catch {
    return undefined;
  }
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}

/**
 * Every message of a dead-letter queue. SQS has no peek: each is received (which counts as a
 * receive) and made visible again at once, so listing changes nothing else. On a FIFO queue, a
 * group's later messages are not received while its earlier ones are held, so only the first of
 * each group can be listed (countMessages says how many there are in all).
 */
export async function listDeadLetters(sqs: SQSClient, queueUrl: string, { limit = 1000, now = Date.now() } = {}): Promise<DeadLetter[]> {
  const held: Message[] = [];
  try {
    while (held.length < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, limit - held.length),
          VisibilityTimeout: 60,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      if (Messages.length === 0) break;
      held.push(...Messages);
    }
  } finally {
    for (let i = 0; i < held.length; i += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: held.slice(i, i + 10).map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
  return held.map((message) => ({
    messageId: message.MessageId!,
    orderId: orderIdOf(message.Body ?? ''),
    body: message.Body ?? '',
    // Less the receive this listing made.
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1) - 1,
    ageSeconds: Math.round((now - Number(message.Attributes?.SentTimestamp ?? now)) / 1000),
  }));
}

/**
 * A message as sent back to `targetUrl`. A FIFO queue needs a group and a deduplication id: the group
 * is the order's customer's, as submit-order sends it; the deduplication id is the dead letter's own
 * message id, not the order id, because the order id was used when the order was first sent and the
 * queue would drop a redrive within its five minutes. A move repeated after a crash between send and
 * delete sends the same message id, which the queue drops: the order is not queued twice.
 */
function resendEntry(message: Message, index: number, targetUrl: string): SendMessageBatchRequestEntry {
  const body = message.Body ?? '';
  return {
    Id: String(index),
    MessageBody: body,
    ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
    ...(isFifoQueue(targetUrl) ? { MessageGroupId: fifoGroupOfBody(body, UNKNOWN_CUSTOMER_GROUP), MessageDeduplicationId: message.MessageId } : {}),
  };
}

/**
 * Moves messages from one queue to another by receive, send, delete: body and attributes kept (into
 * a FIFO queue, in the customer's group), and a message is deleted from the source only once the
 * target has accepted it.
 */
export async function moveMessages(sqs: SQSClient, { sourceUrl, targetUrl, limit = Infinity }: { sourceUrl: string; targetUrl: string; limit?: number }): Promise<Omit<RedriveResult, 'method'>> {
  let moved = 0;
  let failed = 0;
  while (moved + failed < limit) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sourceUrl,
        MaxNumberOfMessages: Math.min(10, limit - moved - failed),
        // Long enough to send and delete; a message that fails here reappears in the source.
        VisibilityTimeout: 30,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: targetUrl,
        Entries: Messages.map((message, index) => resendEntry(message, index, targetUrl)),
      }),
    );
    const resent = (sent.Successful ?? []).map((entry) => Messages[Number(entry.Id)]!);
    failed += Messages.length - resent.length;
    if (resent.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: sourceUrl,
          Entries: resent.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
    moved += resent.length;
  }
  return { moved, failed };
}

function isUnsupported(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  return name === 'InvalidAction' || name === 'UnsupportedOperation' || /unknown action|not supported/i.test(message ?? '');
}

/**
 * Sends a DLQ's messages back to their queue: with SQS's own StartMessageMoveTask where the endpoint
 * has it (AWS), else by receive-send-delete (emulators).
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  { deadLetterUrl, queueUrl, pollMs = 1000, timeoutMs = 15 * 60_000 }: { deadLetterUrl: string; queueUrl: string; pollMs?: number; timeoutMs?: number },
): Promise<RedriveResult> {
  const sourceArn = await queueArn(sqs, deadLetterUrl);
  const destinationArn = await queueArn(sqs, queueUrl);
  try {
    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
  } catch (error) {
    if (!isUnsupported(error)) throw error;
    return { ...(await moveMessages(sqs, { sourceUrl: deadLetterUrl, targetUrl: queueUrl })), method: 'receive-send-delete' };
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
    const task = Results[0];
    if (task && task.Status !== 'RUNNING') {
      if (task.Status !== 'COMPLETED') throw new Error(`The move task ended ${task.Status}: ${task.FailureReason ?? 'no reason given'}`);
      const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
      return { moved, failed: Math.max(0, (task.ApproximateNumberOfMessagesToMove ?? moved) - moved), method: 'StartMessageMoveTask' };
    }
    if (Date.now() > deadline) throw new Error('The move task is still running; check it with aws sqs list-message-move-tasks');
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Deletes every message of a queue. */
export async function purgeQueue(sqs: SQSClient, queueUrl: string): Promise<void> {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
}

/** How many messages a queue holds, visible or in flight (SQS's approximate counts). */
export async function countMessages(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}
