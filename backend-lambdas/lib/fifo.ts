/** SQS requires a FIFO queue's name to end in `.fifo`, and no other queue's may. */
export const FIFO_SUFFIX = '.fifo';

/**
 * Whether a queue's URL, ARN or name is a FIFO queue's. The functions tell the queue type this way
 * (submit-order from its QUEUE_URL, process-order from each record's eventSourceARN) rather than
 * from a setting of its own, which could disagree with the queue it runs on.
 */
export function isFifoQueue(urlArnOrName: string): boolean {
  return urlArnOrName.endsWith(FIFO_SUFFIX);
}
