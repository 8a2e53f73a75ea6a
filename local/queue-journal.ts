// The queues' journal: every message SQS accepted, appended before the emulator answers, and every
// delete, DLQ move and purge after it. What it holds at start, less what was deleted, is what the
// queues held when the process ended, however it ended.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

/** A message as the journal keeps it: what a replay needs to put it back. */
export interface JournaledMessage {
  id: string;
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  /** When SQS first accepted it (epoch ms), so its age survives a restart. */
  sentAt: number;
}

type Entry =
  | ({ op: 'put'; queue: string } & JournaledMessage)
  | { op: 'delete'; queue: string; id: string }
  | { op: 'purge'; queue: string };

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
  private readonly lockFile: string;
  private fd: number;
  private lines = 0;
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
      const { op: _op, queue, ...message } = entry;
      let messages = this.live.get(queue);
      if (!messages) this.live.set(queue, (messages = new Map<string, JournaledMessage>()));
      messages.set(message.id, message);
    } else if (entry.op === 'delete') {
      this.live.get(entry.queue)?.delete(entry.id);
    } else {
      this.live.delete(entry.queue);
    }
  }

  private append(entry: Entry): void {
    if (this.closed) return;
    this.apply(entry);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    this.lines++;
  }

  /** SQS accepted a message (a send, an SNS delivery, a move to the DLQ). */
  put(queue: string, message: JournaledMessage): void {
    this.append({ op: 'put', queue, ...message });
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
    try {
      let lines = 0;
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
    const garbage = this.lines - this.size;
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
