import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** What a FIFO queue needs of each message: its group (kept in order) and its deduplication id. */
export interface FifoMessageIds {
  groupId: string;
  deduplicationId: string;
}

/**
 * Sends messages to one queue, grouping those that arrive in the same turn of the event loop into
 * SendMessageBatch calls of up to 10. Each caller still learns whether its own message was
 * accepted. A Lambda handles one request at a time, so there every batch is a single SendMessage;
 * a process serving many requests at once (the local stack) sends a tenth of the calls.
 *
 * On a FIFO queue a group's order is the order SQS accepts its messages in, so a message is never
 * sent while an earlier one of its group is still being sent: batches go out side by side only when
 * they share no group (SQS keeps the order of the entries within one batch).
 */
export function createBatchingSender(sqs: SQSClient, queueUrl: string) {
  interface Pending {
    body: string;
    fifo: FifoMessageIds | undefined;
    resolve: () => void;
    reject: (error: unknown) => void;
  }
  let pending: Pending[] = [];
  let scheduled = false;
  /** Groups with a send under way. */
  const sending = new Set<string>();

  const ids = (fifo: FifoMessageIds | undefined) => (fifo ? { MessageGroupId: fifo.groupId, MessageDeduplicationId: fifo.deduplicationId } : {});

  async function send(batch: Pending[]): Promise<void> {
    try {
      if (batch.length === 1) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: batch[0]!.body, ...ids(batch[0]!.fifo) }));
        batch[0]!.resolve();
        return;
      }
      const { Successful = [], Failed = [] } = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((entry, i) => ({ Id: String(i), MessageBody: entry.body, ...ids(entry.fifo) })) }),
      );
      for (const entry of Successful) batch[Number(entry.Id)]!.resolve();
      for (const entry of Failed) batch[Number(entry.Id)]!.reject(new Error(`SendMessageBatch entry failed: ${entry.Code ?? 'unknown'} ${entry.Message ?? ''}`));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }

  function flush() {
    scheduled = false;
    // Groups that must not go out now: a send of theirs is under way, or one of their messages waits.
    const blocked = new Set(sending);
    // The batch each group's messages are in, this flush: a group stays in one batch.
    const batchOf = new Map<string, Pending[]>();
    const batches: Pending[][] = [[]];
    const waiting: Pending[] = [];
    for (const entry of pending) {
      if (batches.at(-1)!.length === 10) batches.push([]);
      const open = batches.at(-1)!;
      const group = entry.fifo?.groupId;
      if (group !== undefined) {
        const claimed = batchOf.get(group);
        if (blocked.has(group) || (claimed && claimed !== open)) {
          blocked.add(group);
          waiting.push(entry);
          continue;
        }
        batchOf.set(group, open);
      }
      open.push(entry);
    }
    pending = waiting;
    for (const batch of batches.filter((candidate) => candidate.length > 0)) {
      const groups = [...new Set(batch.flatMap((entry) => (entry.fifo ? [entry.fifo.groupId] : [])))];
      for (const group of groups) sending.add(group);
      void send(batch).finally(() => {
        for (const group of groups) sending.delete(group);
        if (pending.length > 0) schedule();
      });
    }
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  /** Queues one message; with `fifo`, in its group's order. Resolves once SQS has accepted it. */
  return function sendMessage(body: string, fifo?: FifoMessageIds): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      pending.push({ body, fifo, resolve, reject });
      schedule();
    });
  };
}
