import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Sends messages to one queue, grouping those that arrive in the same turn of the event loop into
 * SendMessageBatch calls of up to 10. Each caller still learns whether its own message was
 * accepted. A Lambda handles one request at a time, so there every batch is a single SendMessage;
 * a process serving many requests at once (the local stack) sends a tenth of the calls.
 */
export function createBatchingSender(sqs: SQSClient, queueUrl: string) {
  interface Pending {
    body: string;
    resolve: () => void;
    reject: (error: unknown) => void;
  }
  let pending: Pending[] = [];
  let scheduled = false;

  async function send(batch: Pending[]): Promise<void> {
    try {
      if (batch.length === 1) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: batch[0]!.body }));
        batch[0]!.resolve();
        return;
      }
      const { Successful = [], Failed = [] } = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((entry, i) => ({ Id: String(i), MessageBody: entry.body })) }),
      );
      for (const entry of Successful) batch[Number(entry.Id)]!.resolve();
      for (const entry of Failed) batch[Number(entry.Id)]!.reject(new Error(`SendMessageBatch entry failed: ${entry.Code ?? 'unknown'} ${entry.Message ?? ''}`));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }

  function flush() {
    scheduled = false;
    const all = pending;
    pending = [];
    for (let i = 0; i < all.length; i += 10) void send(all.slice(i, i + 10));
  }

  return function sendMessage(body: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      pending.push({ body, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
}
