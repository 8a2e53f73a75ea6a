// The queues' journal: every message SQS accepted, appended before the emulator answers, and every
// delete, DLQ move and purge after it. What it holds at start, less what was deleted, is what the
// queues held when the process ended, however it ended.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

/** What a FIFO queue holds of a message besides its body: its group, the id it was deduplicated by, its place in the queue. */
export interface FifoFields {
  groupId: string;
  deduplicationId: string;
  sequenceNumber?: string | undefined;
}

/** A message as the journal keeps it: what a replay needs to put it back. */
export interface JournaledMessage {
  id: string;
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  /** When SQS first accepted it (epoch ms), so its age survives a restart. */
  sentAt: number;
  /** On a FIFO queue: without its group a replayed message would lose its place in its customer's order. */
  fifo?: FifoFields | undefined;
}

/**
 * A deduplication id a FIFO queue refuses a second message for until `at` plus SQS's five-minute
 * window, with the message id and sequence number it answers a duplicate with. Kept after its
 * message is deleted: a producer's retry after a restart is still a duplicate.
 */
export interface Deduplication {
  id: string;
  messageId: string;
  sequenceNumber: string | undefined;
  at: number;
}

/** SQS FIFO's deduplication interval. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

type Entry =
  /** `sent`: sent to this queue (not moved there from another queue's redrive), so it was deduplicated and numbered here. */
  | ({ op: 'put'; queue: string; sent?: boolean } & JournaledMessage)
  | { op: 'delete'; queue: string; id: string }
  | { op: 'purge'; queue: string }
  // Written by compaction: what a FIFO queue still deduplicates, and its highest sequence number so far.
  | ({ op: 'dedup'; queue: string } & Deduplication)
  | { op: 'sequence'; queue: string; value: string };

/** Another live process has the journal open (a second npm start on the same state folder). */
export class JournalInUseError extends Error {
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`${file} is in use by process ${pid} (another npm start on the same state folder?)`);
    this.name = 'JournalInUseError';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<file>.lock` for this process. Two processes on one journal would each compact it from
 * their own view and drop what the other wrote; a lock left by a killed process is taken over.
 */
function lock(file: string): string {
  const lockFile = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return lockFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) throw new JournalInUseError(file, holder);
      unlinkSync(lockFile);
    }
  }
  throw new Error(`could not take ${lockFile}`);
}

export interface JournalOptions {
  logger: Logger;
  /** Compaction is considered this often (and at open and close). */
  compactEveryMs?: number;
  /** ...and done when at least this many lines are garbage (deleted messages and their deletes). */
  compactAfterGarbageLines?: number;
}

/**
 * An append-only journal in one file, one JSON line per event. Each append is a synchronous
 * write(2): once the emulator has answered SendMessage the line is in the kernel's page cache,
 * which a killed process does not take with it (a power cut might; this is a laptop's dev stack,
 * not a database). Compaction rewrites the live messages to a new file and renames it over the
 * old one, so a crash during it leaves one complete journal or the other.
 */
export class QueueJournal {
  private readonly live = new Map<string, Map<string, JournaledMessage>>();
  private readonly deduplicated = new Map<string, Map<string, Deduplication>>();
  private readonly sequences = new Map<string, string>();
  private readonly lockFile: string;
  private fd: number;
  private lines = 0;
  /** Lines of the last compaction that are not messages (deduplications, sequence numbers): not garbage. */
  private bookkeepingLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly file: string,
    private readonly options: Required<JournalOptions>,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.lockFile = lock(file);
    this.read();
    this.fd = openSync(file, 'a');
    this.timer = setInterval(() => this.compactIfWorthIt(), options.compactEveryMs);
    this.timer.unref();
  }

  /** Opens (or creates) the journal at `file` and reads what it holds. */
  static open(file: string, { logger, compactEveryMs = 10_000, compactAfterGarbageLines = 20_000 }: JournalOptions): QueueJournal {
    return new QueueJournal(file, { logger, compactEveryMs, compactAfterGarbageLines });
  }

  private read(): void {
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file, 'utf8');
    let unreadable = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let entry: Entry;
      try {
        entry = JSON.parse(line) as Entry;
      } catch {
        // A line cut short by a crash in the middle of a write; nothing after it was answered.
        unreadable++;
        continue;
      }
      this.apply(entry);
      this.lines++;
    }
    if (unreadable > 0) this.options.logger.warn({ file: this.file, unreadable }, 'queue journal: skipped lines that could not be read');
  }

  private apply(entry: Entry): void {
    if (entry.op === 'put') {
      const { op: _op, queue, sent, ...message } = entry;
      let messages = this.live.get(queue);
      if (!messages) this.live.set(queue, (messages = new Map<string, JournaledMessage>()));
      messages.set(message.id, message);
      if (sent && message.fifo) {
        this.dedup(queue, { id: message.fifo.deduplicationId, messageId: message.id, sequenceNumber: message.fifo.sequenceNumber, at: message.sentAt });
        if (message.fifo.sequenceNumber) this.sequence(queue, message.fifo.sequenceNumber);
      }
    } else if (entry.op === 'delete') {
      this.live.get(entry.queue)?.delete(entry.id);
    } else if (entry.op === 'purge') {
      // Purging empties a queue; its deduplication window stays, as on SQS.
      this.live.delete(entry.queue);
    } else if (entry.op === 'dedup') {
      const { op: _op, queue, ...deduplication } = entry;
      this.dedup(queue, deduplication);
    } else {
      this.sequence(entry.queue, entry.value);
    }
  }

  private dedup(queue: string, deduplication: Deduplication): void {
    let ids = this.deduplicated.get(queue);
    if (!ids) this.deduplicated.set(queue, (ids = new Map<string, Deduplication>()));
    ids.set(deduplication.id, deduplication);
  }

  private sequence(queue: string, value: string): void {
    // Sequence numbers are fixed-width decimal strings (fauxqs pads them to 20 digits): BigInt compares them whatever their width.
    const current = this.sequences.get(queue);
    if (current === undefined || BigInt(value) > BigInt(current)) this.sequences.set(queue, value);
  }

  /** Forgets deduplication ids whose window has passed. */
  private prune(now: number): void {
    for (const ids of this.deduplicated.values()) {
      for (const [id, deduplication] of ids) if (now - deduplication.at >= DEDUPLICATION_WINDOW_MS) ids.delete(id);
    }
  }

  private append(entry: Entry): void {
    if (this.closed) return;
    this.apply(entry);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    this.lines++;
  }

  /**
   * SQS accepted a message (a send, an SNS delivery, a move to the DLQ). `sent`: it was sent to this
   * queue, rather than moved here by a redrive, so a FIFO queue deduplicated and numbered it.
   */
  put(queue: string, message: JournaledMessage, { sent = false }: { sent?: boolean } = {}): void {
    this.append({ op: 'put', queue, ...message, ...(sent && message.fifo ? { sent } : {}) });
  }

  /** A message left its queue (deleted after processing, or moved to the DLQ). */
  delete(queue: string, id: string): void {
    this.append({ op: 'delete', queue, id });
  }

  /** Every message of a queue went at once (PurgeQueue, DeleteQueue). */
  purge(queue: string): void {
    this.append({ op: 'purge', queue });
  }

  /** The messages each queue held, oldest first. */
  messages(): ReadonlyMap<string, readonly JournaledMessage[]> {
    return new Map([...this.live].map(([queue, messages]) => [queue, [...messages.values()]]));
  }

  /** The deduplication ids a FIFO queue still refuses a second message for at `now`. */
  deduplications(queue: string, now = Date.now()): Deduplication[] {
    return [...(this.deduplicated.get(queue)?.values() ?? [])].filter((deduplication) => now - deduplication.at < DEDUPLICATION_WINDOW_MS);
  }

  /** The highest sequence number a FIFO queue has given, so numbers after a restart keep rising. */
  lastSequenceNumber(queue: string): string | undefined {
    return this.sequences.get(queue);
  }

  /** How many messages the journal holds. */
  get size(): number {
    let count = 0;
    for (const messages of this.live.values()) count += messages.size;
    return count;
  }

  /** Rewrites the journal with the live messages only. */
  compact(): void {
    if (this.closed) return;
    const temporary = `${this.file}.compacting`;
    const fd = openSync(temporary, 'w');
    const now = Date.now();
    this.prune(now);
    try {
      let lines = 0;
      // What a FIFO queue remembers besides its messages, first: a put read after it never lowers it.
      let bookkeeping = 0;
      for (const [queue, value] of this.sequences) {
        writeSync(fd, `${JSON.stringify({ op: 'sequence', queue, value } satisfies Entry)}\n`);
        bookkeeping++;
      }
      for (const [queue, ids] of this.deduplicated) {
        for (const deduplication of ids.values()) {
          writeSync(fd, `${JSON.stringify({ op: 'dedup', queue, ...deduplication } satisfies Entry)}\n`);
          bookkeeping++;
        }
      }
      lines += bookkeeping;
      for (const [queue, messages] of this.live) {
        for (const message of messages.values()) {
          writeSync(fd, `${JSON.stringify({ op: 'put', queue, ...message } satisfies Entry)}\n`);
          lines++;
        }
      }
      // Durable before it replaces the old journal: the rename must never point at a half-written file.
      fsyncSync(fd);
      closeSync(fd);
      renameSync(temporary, this.file);
      const dir = openSync(dirname(this.file), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
      closeSync(this.fd);
      this.fd = openSync(this.file, 'a');
      this.lines = lines;
      this.bookkeepingLines = bookkeeping;
    } catch (error) {
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
      throw error;
    }
  }

  private compactIfWorthIt(): void {
    this.prune(Date.now());
    const garbage = this.lines - this.size - this.bookkeepingLines;
    if (garbage < this.options.compactAfterGarbageLines) return;
    try {
      this.compact();
    } catch (error) {
      // The old journal is still whole; compaction is tried again at the next interval.
      this.options.logger.warn({ err: error, file: this.file }, 'queue journal: compaction failed; the journal is kept as it is');
    }
  }

  /** Compacts and closes; later events are not recorded. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.timer);
    this.compactIfWorthIt();
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.lockFile, { force: true });
  }
}
