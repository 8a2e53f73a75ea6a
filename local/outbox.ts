import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Logger } from 'pino';

/** A short, file-name-safe tag of a delivery key; every mail file ends with its tag. */
function tagOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
const TAGGED_MAIL = /-([0-9a-f]{16})\.eml$/;

let lastStamp = '';
let sameStampCount = 0;
/** A sortable, unique time for a file name, e.g. 2026-11-22T10-00-00.123004Z. */
function fileTime(now: Date): string {
  const stamp = now.toISOString().slice(0, 23).replace(/:/g, '-');
  sameStampCount = stamp === lastStamp ? sameStampCount + 1 : 0;
  lastStamp = stamp;
  return `${stamp}${String(sameStampCount).padStart(3, '0')}Z`;
}

export interface Outbox {
  /**
   * Writes `mail` as `<time>-<source>-<tag>.eml` (and sends it through SMTP when a URL is given),
   * once per `key`: false when a mail with that key was written already, now or before a restart.
   */
  send(mail: SendMailOptions & { to: string | string[]; subject: string }, { key, source }: { key: string; source: string }): Promise<boolean>;
  close(): void;
}

/**
 * The local mailbox every mail of the stack goes to: SNS email (alarms, order events), Cognito's
 * codes and SES. Each mail's file is the record that it was sent: written under a temporary name
 * and renamed into place, so a crash leaves either no mail or the whole mail, whose tag, read back
 * at start, makes sending it again a no-op.
 */
export async function createOutbox({ mailDir, smtpUrl, logger, print }: { mailDir: string; smtpUrl?: string | undefined; logger: Logger; print: (line: string) => void }): Promise<Outbox> {
  await mkdir(mailDir, { recursive: true });
  const sent = new Set<string>();
  for (const file of await readdir(mailDir)) {
    const tag = TAGGED_MAIL.exec(file)?.[1];
    if (tag) sent.add(tag);
    // What a crash between writing and renaming left: its sender sends it again.
    else if (file.endsWith('.eml.partial')) await rm(join(mailDir, file), { force: true });
  }
  const renderer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const smtp = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;

  return {
    async send(mail, { key, source }) {
      const tag = tagOf(key);
      if (sent.has(tag)) {
        logger.debug({ key }, 'mail already sent; not sent again');
        return false;
      }
      const rendered = await renderer.sendMail(mail);
      // SMTP first: while the server is down nothing is written, and the sender tries again.
      if (smtp) await smtp.sendMail(mail);
      const file = join(mailDir, `${fileTime(new Date())}-${source.replace(/[^\w.-]/g, '_')}-${tag}.eml`);
      await writeFile(`${file}.partial`, rendered.message as Buffer);
      await rename(`${file}.partial`, file);
      sent.add(tag);
      print(`mail  ${source} -> ${([] as string[]).concat(mail.to).join(', ')}: ${mail.subject}  (${file})`);
      return true;
    },
    close() {
      renderer.close();
      smtp?.close();
    },
  };
}
