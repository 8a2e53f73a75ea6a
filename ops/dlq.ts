// npm run dlq -- list | redrive | purge   — inspect and replay the dead-letter queue, locally or on AWS.
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { awsClientConfig } from '../backend-lambdas/lib/aws.js';
import { isFifoQueue } from '../backend-lambdas/lib/fifo.js';
import { QUEUE_TYPES, queueNames, settings, type QueueType } from '../platform/settings.js';
import { countMessages, listDeadLetters, printable, purgeQueue, redriveDeadLetters } from './dead-letters.js';

const USAGE = `Usage: npm run dlq -- <list|redrive|purge> [options]

  list       show each message: order_id, receive count, age, body (control characters escaped)
  redrive    move the messages back to the orders queue (after fixing their cause)
  purge      delete them all (asks first, unless --yes)

Options:
  --local              the local stack (npm start): http://127.0.0.1:$SQS_PORT (default 4566)
  --endpoint URL       an SQS endpoint (default: AWS for the region)
  --region NAME        AWS region (default: $AWS_REGION or ${settings.region})
  --prefix TEXT        name prefix of the deployment (as Terraform's name_prefix)
  --queue-type TYPE    standard or fifo, as the deployment's queue_type (default ${settings.queue.type});
                       fifo: ${queueNames('fifo').queue} and ${queueNames('fifo').deadLetterQueue}, each message redriven in its customer's group
  --queue NAME         source queue name (default ${queueNames('standard').queue}, or ${queueNames('fifo').queue})
  --dlq NAME           dead-letter queue name (default ${queueNames('standard').deadLetterQueue}, or ${queueNames('fifo').deadLetterQueue})
  --queue-url URL, --dlq-url URL   queue URLs instead of names
  --limit N            list at most N messages (default 1000)
  --json               list as JSON
  --yes                purge without asking
`;

/** A problem the tool explains in one line; exit code 2 for a wrong command line, 1 otherwise. */
class DlqToolError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'DlqToolError';
  }
}

const usageError = (message: string) => new DlqToolError(`${message} (npm run dlq -- --help shows the usage)`, 2);

/** What went wrong, in one line a person can act on; never a stack trace. */
function explain(error: unknown, endpoint: string | undefined): string {
  if (error instanceof DlqToolError) return error.message;
  const { name = 'Error', message = String(error), code } = error as { name?: string; message?: string; code?: string };
  const where = endpoint ?? 'AWS';
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  if ([code, cause, name].some((value) => value === 'ECONNREFUSED' || value === 'ECONNRESET')) {
    return `cannot reach ${where}${endpoint?.includes('127.0.0.1') ? ': is the local stack running (npm start)?' : ''}`;
  }
  if (name === 'CredentialsProviderError') return `no AWS credentials found (${message.split('\n')[0]}); for the local stack add --local`;
  if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue') return `the queue does not exist at ${where} (check --region, --prefix or --dlq)`;
  return `${name}: ${message.split('\n')[0]}`;
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        local: { type: 'boolean', default: false },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        prefix: { type: 'string', default: '' },
        'queue-type': { type: 'string', default: settings.queue.type },
        queue: { type: 'string' },
        dlq: { type: 'string' },
        'queue-url': { type: 'string' },
        'dlq-url': { type: 'string' },
        limit: { type: 'string', default: '1000' },
        json: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parse();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const command = positionals[0];
  if (command !== 'list' && command !== 'redrive' && command !== 'purge') throw usageError(`Unknown or missing command: ${command ?? '(none)'}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usageError('--limit must be a whole number above 0');
  const queueType = values['queue-type'] as QueueType;
  if (!QUEUE_TYPES.includes(queueType)) throw usageError(`--queue-type must be ${QUEUE_TYPES.join(' or ')}, not ${values['queue-type']}`);
  const names = queueNames(queueType);

  const endpoint = values.endpoint ?? (values.local ? `http://127.0.0.1:${process.env.SQS_PORT ?? '4566'}` : undefined);
  const sqs = new SQSClient(
    awsClientConfig({
      region: values.region ?? process.env.AWS_REGION ?? settings.region,
      endpoint,
      // The local emulators take any credentials (they must be signed); on AWS the SDK's usual chain applies.
      credentials: values.local && !process.env.AWS_ACCESS_KEY_ID ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined,
    }),
  );
  try {
    const urlOf = async (explicit: string | undefined, name: string): Promise<string> => {
      if (explicit) return explicit;
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      return QueueUrl!;
    };
    const dlqName = values.dlq ?? `${values.prefix}${names.deadLetterQueue}`;
    const queueName = values.queue ?? `${values.prefix}${names.queue}`;
    const deadLetterUrl = await urlOf(values['dlq-url'], dlqName);

    if (command === 'list') {
      const held = isFifoQueue(deadLetterUrl) ? await countMessages(sqs, deadLetterUrl) : undefined;
      const letters = await listDeadLetters(sqs, deadLetterUrl, { limit });
      // A FIFO queue hands out a group's later messages only once its earlier ones are gone.
      const behind = held !== undefined && held > letters.length && letters.length < limit ? held - letters.length : 0;
      if (values.json) {
        console.log(JSON.stringify(letters, null, 2));
      } else {
        console.log(`${letters.length} message${letters.length === 1 ? '' : 's'} in ${dlqName}`);
        if (behind) console.log(`(and about ${behind} more behind them in their customers' groups: a FIFO queue shows a group's next message only once the one before it is gone; redrive moves them all)`);
        for (const letter of letters) {
          // Escaped: a body is whatever someone sent, and must not be able to print a line of its own.
          const orderId = letter.orderId === undefined ? '(none)' : printable(letter.orderId);
          console.log(`\n  order_id  ${orderId}\n  message   ${printable(letter.messageId)}\n  receives  ${letter.receiveCount}\n  age       ${letter.ageSeconds} s\n  body      ${printable(letter.body)}`);
        }
      }
    } else if (command === 'redrive') {
      const queueUrl = await urlOf(values['queue-url'], queueName);
      const { moved, failed, method } = await redriveDeadLetters(sqs, { deadLetterUrl, queueUrl });
      console.log(`Moved ${moved} message${moved === 1 ? '' : 's'} from ${dlqName} to ${queueName} (${method})${failed ? `; ${failed} could not be sent and stay in ${dlqName}` : ''}.`);
      if (failed) process.exitCode = 1;
    } else {
      if (!values.yes) {
        if (!process.stdin.isTTY) throw new DlqToolError(`Refusing to purge ${dlqName} without confirmation: run it in a terminal, or add --yes.`, 2);
        const prompt = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await prompt.question(`Delete every message in ${dlqName}? This cannot be undone. Type "${dlqName}" to confirm: `);
        prompt.close();
        if (answer.trim() !== dlqName) {
          console.log('Nothing deleted.');
          process.exitCode = 1;
          return;
        }
      }
      await purgeQueue(sqs, deadLetterUrl);
      console.log(`Purged ${dlqName}.`);
    }
  } catch (error) {
    if (error instanceof DlqToolError) throw error;
    throw new DlqToolError(explain(error, endpoint));
  } finally {
    sqs.destroy();
  }
}

try {
  await main();
} catch (error) {
  console.error(`dlq: ${explain(error, undefined)}`);
  process.exitCode = error instanceof DlqToolError ? error.exitCode : 1;
}
