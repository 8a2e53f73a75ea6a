import type { Message } from '@aws-sdk/client-sqs';
import { createGroupLocks, messagesToDelete } from '../../local/event-source-mapping.js';

const batch: Message[] = ['a', 'b', 'c'].map((id) => ({ MessageId: id, ReceiptHandle: `r-${id}`, Body: id }));
const ids = (messages: Message[]) => messages.map((message) => message.MessageId);

describe('which messages the event source mapping deletes', () => {
  it('when the function reports no failures, then the whole batch is deleted', () => {
    expect(ids(messagesToDelete(batch, { response: { batchItemFailures: [] }, threw: false }))).toEqual(['a', 'b', 'c']);
    expect(ids(messagesToDelete(batch, { response: undefined, threw: false }))).toEqual(['a', 'b', 'c']);
  });

  it('when it reports some failures, then all but those are deleted', () => {
    expect(ids(messagesToDelete(batch, { response: { batchItemFailures: [{ itemIdentifier: 'b' }] }, threw: false }))).toEqual(['a', 'c']);
  });

  it('when it throws, or reports an id not in the batch or an empty id, then none is deleted', () => {
    expect(messagesToDelete(batch, { threw: true })).toEqual([]);
    expect(messagesToDelete(batch, { response: { batchItemFailures: [{ itemIdentifier: 'zzz' }] }, threw: false })).toEqual([]);
    expect(messagesToDelete(batch, { response: { batchItemFailures: [{ itemIdentifier: '' }] }, threw: false })).toEqual([]);
  });
});

describe('the mapping\'s FIFO group locks', () => {
  it('when two batches bring the same group, then the second is invoked only once the first has ended; a batch of other groups goes on meanwhile', async () => {
    const locks = createGroupLocks();
    const events: string[] = [];
    const releaseFirst = await locks.hold(['c1', 'c2']);
    events.push('first holds c1, c2');
    const second = locks.hold(['c2', 'c3']).then((release) => {
      events.push('second holds c2, c3');
      return release;
    });
    const other = await locks.hold(['c4']);
    events.push('other holds c4');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual(['first holds c1, c2', 'other holds c4']);
    releaseFirst();
    (await second)();
    other();
    expect(events).toEqual(['first holds c1, c2', 'other holds c4', 'second holds c2, c3']);
    // Messages of a standard queue have no group: nothing to wait for.
    (await locks.hold([]))();
  });
});
