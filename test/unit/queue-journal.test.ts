import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEDUPLICATION_WINDOW_MS, JournalInUseError, QueueJournal, type JournaledMessage } from '../../local/queue-journal.js';

const message = (id: string, body = `body of ${id}`): JournaledMessage => ({ id, body, attributes: { event_id: { DataType: 'String', StringValue: `e-${id}` } }, sentAt: 1_700_000_000_000 });
const bodies = (journal: QueueJournal) => Object.fromEntries([...journal.messages()].map(([queue, messages]) => [queue, messages.map((kept) => kept.id)]));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'journal-test-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the queue journal', () => {
  it('when messages are put, deleted and purged and the journal is opened again, then exactly the ones left come back, oldest first, with their attributes', () => {
    const file = join(dir, 'journal.ndjson');
    const journal = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    for (const id of ['a', 'b', 'c']) journal.put('orders', message(id));
    journal.put('orders-dlq', message('p'));
    journal.put('mail', message('m1'));
    journal.delete('orders', 'b');
    // A move to the DLQ: deleted from its queue, put on the DLQ with the same id.
    journal.delete('orders', 'a');
    journal.put('orders-dlq', message('a'));
    journal.purge('mail');
    journal.put('mail', message('m2'));
    // No close: as after kill -9, only what was written is there, and the lock of a process that is gone.
    writeFileSync(`${file}.lock`, '999999999');

    const reopened = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    expect(bodies(reopened)).toEqual({ orders: ['c'], 'orders-dlq': ['p', 'a'], mail: ['m2'] });
    expect(reopened.messages().get('orders')![0]).toEqual(message('c'));
    reopened.close();
  });

  it('when the last line was cut short by a crash, then every whole line is read and the cut one is skipped with a warning', () => {
    const file = join(dir, 'journal.ndjson');
    const journal = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    journal.put('orders', message('a'));
    journal.close();
    appendFileSync(file, '{"op":"put","queue":"orders","id":"b","bo');
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const reopened = QueueJournal.open(file, { logger });
    expect(bodies(reopened)).toEqual({ orders: ['a'] });
    expect(warnings.join('')).toContain('skipped lines');
    reopened.close();
  });

  it('when it is compacted, then the file holds one line per message left and reads back the same', () => {
    const file = join(dir, 'journal.ndjson');
    const journal = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    for (let i = 0; i < 100; i++) journal.put('orders', message(String(i)));
    for (let i = 0; i < 98; i++) journal.delete('orders', String(i));
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(198);
    journal.compact();
    journal.put('orders', message('after'));
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
    journal.close();
    const reopened = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    expect(bodies(reopened)).toEqual({ orders: ['98', '99', 'after'] });
    reopened.close();
  });

  it('when a second process opens a journal that a live one holds, then it is refused with that process named; a lock left by a killed process is taken over', () => {
    const file = join(dir, 'journal.ndjson');
    // A lock held by a process that is running (the parent of this one, say).
    writeFileSync(`${file}.lock`, String(process.ppid));
    expect(() => QueueJournal.open(file, { logger: pino({ level: 'silent' }) })).toThrow(JournalInUseError);
    // A lock whose process is gone, as kill -9 leaves it.
    writeFileSync(`${file}.lock`, '999999999');
    const journal = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe(String(process.pid));
    journal.close();
  });

  it('when FIFO messages are put, deleted and the journal is opened again, then they come back with their group, deduplication id and sequence number, and the queue still deduplicates the deleted one for five minutes', () => {
    const file = join(dir, 'journal.ndjson');
    const journal = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    const now = Date.now();
    const fifo = (id: string, group: string, sequence: number, sentAt = now) => ({ ...message(id), sentAt, fifo: { groupId: group, deduplicationId: `order-${id}`, sequenceNumber: String(sequence).padStart(20, '0') } });
    journal.put('orders.fifo', fifo('a', 'c1', 1), { sent: true });
    journal.put('orders.fifo', fifo('b', 'c1', 2), { sent: true });
    journal.put('orders.fifo', fifo('old', 'c2', 3, now - DEDUPLICATION_WINDOW_MS - 1), { sent: true });
    journal.delete('orders.fifo', 'a');
    // A move to the DLQ keeps the message's fields but is no send of the DLQ's: nothing deduplicated or numbered there.
    journal.delete('orders.fifo', 'old');
    journal.put('orders-dlq.fifo', fifo('old', 'c2', 3, now - DEDUPLICATION_WINDOW_MS - 1));
    writeFileSync(`${file}.lock`, '999999999');

    for (const reopened of [QueueJournal.open(file, { logger: pino({ level: 'silent' }) })]) {
      expect(reopened.messages().get('orders.fifo')).toEqual([fifo('b', 'c1', 2)]);
      expect(reopened.deduplications('orders.fifo', now).map((entry) => [entry.id, entry.messageId])).toEqual([['order-a', 'a'], ['order-b', 'b']]);
      expect(reopened.deduplications('orders-dlq.fifo', now)).toEqual([]);
      expect(reopened.lastSequenceNumber('orders.fifo')).toBe('00000000000000000003');
      expect(reopened.lastSequenceNumber('orders-dlq.fifo')).toBeUndefined();
      // Compacted, it keeps all of that: the deduplication of a message that is gone included.
      reopened.compact();
      reopened.close();
    }
    const compacted = QueueJournal.open(file, { logger: pino({ level: 'silent' }) });
    expect(compacted.messages().get('orders.fifo')).toEqual([fifo('b', 'c1', 2)]);
    expect(compacted.deduplications('orders.fifo', now).map((entry) => entry.id)).toEqual(['order-a', 'order-b']);
    expect(compacted.deduplications('orders.fifo', now + DEDUPLICATION_WINDOW_MS)).toEqual([]);
    expect(compacted.lastSequenceNumber('orders.fifo')).toBe('00000000000000000003');
    compacted.close();
  });
});
