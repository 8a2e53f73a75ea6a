// npm run dlq -- list | redrive | purge   — inspect and replay the dead-letter queue, locally or on AWS.
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { awsClientConfig } from '../backend-lambdas/lib/aws.js';
import { settings } from '../platform/settings.js';
import { listDeadLetters, purgeQueue, redriveDeadLetters } from './dead-letters.js';

const USAGE = `Usage: npm run dlq -- <list|redrive|purge> [options]

  list       show each message: order_id, receive count, age, body
  redrive    move the messages back to the orders queue (after fixing their cause)
  purge      delete them all (asks first, unless --yes)

Options:
  --local              the local stack (http://127.0.0.1:$SQS_PORT, default 4566)
  --endpoint URL       an SQS endpoint (default: AWS for the region)
  --region NAME        AWS region (default: $AWS_REGION or ${settings.region})
  --prefix TEXT        name prefix of the deployment (as Terraform's name_prefix)
  --queue NAME         source queue name (default ${settings.names.queue})
  --dlq NAME           dead-letter queue name (default ${settings.names.deadLetterQueue})
  --queue-url URL, --dlq-url URL   queue URLs instead of names
  --limit N            list at most N messages (default 1000)
  --json               list as JSON
  --yes                purge without asking
`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        local: { type: 'boolean', default: false },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        prefix: { type: 'string', default: '' },
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
    return fail((error as Error).message);
  }
})();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const command = positionals[0];
if (command !== 'list' && command !== 'redrive' && command !== 'purge') fail(`Unknown or missing command: ${command ?? '(none)'}`);
const limit = Number(values.limit);
if (!Number.isInteger(limit) || limit < 1) fail('--limit must be a whole number above 0');

const endpoint = values.endpoint ?? (values.local ? `http://127.0.0.1:${process.env.SQS_PORT ?? '4566'}` : undefined);
const sqs = new SQSClient(
  awsClientConfig({
    region: values.region ?? process.env.AWS_REGION ?? settings.region,
    endpoint,
    // The local emulators take any credentials; on AWS the SDK's usual chain applies.
    credentials: values.local && !process.env.AWS_ACCESS_KEY_ID ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined,
  }),
);

async function urlOf(explicit: string | undefined, name: string): Promise<string> {
  if (explicit) return explicit;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return QueueUrl!;
}

const dlqName = values.dlq ?? `${values.prefix}${settings.names.deadLetterQueue}`;
const queueName = values.queue ?? `${values.prefix}${settings.names.queue}`;
const deadLetterUrl = await urlOf(values['dlq-url'], dlqName);

if (command === 'list') {
  const letters = await listDeadLetters(sqs, deadLetterUrl, { limit });
  if (values.json) {
    console.log(JSON.stringify(letters, null, 2));
  } else {
    console.log(`${letters.length} message${letters.length === 1 ? '' : 's'} in ${dlqName}`);
    for (const letter of letters) {
      console.log(`\n  order_id  ${letter.orderId ?? '(none)'}\n  message   ${letter.messageId}\n  receives  ${letter.receiveCount}\n  age       ${letter.ageSeconds} s\n  body      ${letter.body}`);
    }
  }
} else if (command === 'redrive') {
  const queueUrl = await urlOf(values['queue-url'], queueName);
  const { moved, failed, method } = await redriveDeadLetters(sqs, { deadLetterUrl, queueUrl });
  console.log(`Moved ${moved} message${moved === 1 ? '' : 's'} from ${dlqName} to ${queueName} (${method})${failed ? `; ${failed} could not be sent and stay in ${dlqName}` : ''}.`);
  if (failed) process.exitCode = 1;
} else {
  if (!values.yes) {
    if (!process.stdin.isTTY) fail(`Refusing to purge ${dlqName} without confirmation: run it in a terminal, or add --yes.`);
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question(`Delete every message in ${dlqName}? This cannot be undone. Type "${dlqName}" to confirm: `);
    prompt.close();
    if (answer.trim() !== dlqName) {
      console.log('Nothing deleted.');
      process.exit(1);
    }
  }
  await purgeQueue(sqs, deadLetterUrl);
  console.log(`Purged ${dlqName}.`);
}
sqs.destroy();
