import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveResult {
  moved: number;
  failed: number;
}

/**
 * Moves messages from one queue to another by receive, send, delete: body and attributes kept, and
 * a message is deleted from the source only once the target has accepted it.
 */
export async function redriveMessages(sqs: SQSClient, { sourceUrl, targetUrl, limit = Infinity }: { sourceUrl: string; targetUrl: string; limit?: number }): Promise<RedriveResult> {
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
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
        })),
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
