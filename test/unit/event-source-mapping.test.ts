import type { Message } from '@aws-sdk/client-sqs';
import { messagesToDelete } from '../../local/event-source-mapping.js';

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
