import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { JournalInUseError, QueueJournal, type JournaledMessage } from '../../local/queue-journal.js';

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
});
