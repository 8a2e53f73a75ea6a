/**
 * The Lambda functions, declared once, in functions.json: `npm run build` bundles each `entry` and
 * writes the CloudFormation template's resources for each; Terraform reads the same file; the local
 * stack wires each from its `wiring` module, environment and trigger. A new function is its folder and
 * one entry there (docs/contributing.md).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
// The type only: at run time the list is read and checked below (jest's loader does not take JSON imports).
import type declared from './functions.json';
import type { QueueType } from './settings.js';

/** A value a function's environment variable is given, named by what it is, not by how each tool spells it. */
export const RESOURCE_REFS = [
  'orders-queue-url',
  'orders-table-name',
  'order-events-topic-arn',
  'lifecycle-timings',
  'max-receive-count',
  'carts-table-name',
  'cart-ttl-seconds',
  'customer-mail-from',
  'shop-url',
  'products-table-name',
] as const;
export type ResourceRef = (typeof RESOURCE_REFS)[number];

/**
 * What a function may be granted actions on, named as the environment's values are. Each tool maps
 * a name to its resource's ARN (an index's ARN for the `-index` names); the mail identity's grant
 * also holds the sender to the configured address.
 */
export const PERMISSION_TARGETS = [
  'orders-queue',
  'customer-notifications-queue',
  'orders-table',
  'orders-table-due-index',
  'orders-table-account-index',
  'carts-table',
  'products-table',
  'order-events-topic',
  'notifications-key',
  'customer-mail-identity',
] as const;
export type PermissionTarget = (typeof PERMISSION_TARGETS)[number];

const positiveInt = z.number().int().positive();

const triggerSchema = z.discriminatedUnion('type', [
  /**
   * API Gateway REST routes, each "METHOD /resource/{param}", all behind the web tier's API key;
   * `cognito` routes also need the customer's Cognito ID token, and the function takes the customer
   * from the authorizer's claims.
   */
  z.strictObject({
    type: z.literal('api'),
    routes: z.array(z.string().regex(/^(GET|POST|PUT|PATCH|DELETE) (\/([a-z0-9-]+|\{[a-z_]+\}))+$/, 'a route is "METHOD /path", each segment lower-case or a {parameter}')).min(1),
    authorizer: z.literal('cognito').optional(),
  }),
  /** An SQS event source mapping that reports batch item failures. */
  z.strictObject({
    type: z.literal('queue'),
    queue: z.enum(['orders', 'customer-notifications']),
    batchSize: positiveInt,
    maximumBatchingWindowSeconds: z.number().int().min(0).max(300),
    maximumConcurrency: z.number().int().min(2).max(1000),
  }),
  /** An EventBridge schedule; `everySeconds` is the same rate, for the local stack. */
  z.strictObject({ type: z.literal('schedule'), expression: z.string().regex(/^rate\(\d+ (minute|minutes|hour|hours)\)$/), everySeconds: positiveInt }),
]);
export type Trigger = z.infer<typeof triggerSchema>;

const functionSchema = z.strictObject({
  description: z.string().min(1).max(256),
  /** The Lambda entry point, exporting `handler`; what the build bundles. */
  entry: z.string().regex(/^backend-lambdas\/.+\.ts$/),
  /** Exports `wire(env, clients, options)`: the same handler, built from an environment and clients. */
  wiring: z.string().regex(/^backend-lambdas\/.+\.ts$/),
  memoryMb: z.number().int().min(128).max(10240),
  timeoutSeconds: z.number().int().min(1).max(900),
  environment: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.enum(RESOURCE_REFS)),
  /** Each statement of the function's own policy (besides writing its logs and traces, which every function may). */
  permissions: z.array(
    z.strictObject({
      sid: z.string().regex(/^[A-Za-z0-9]+$/),
      actions: z.array(z.string().regex(/^[a-z0-9]+:[A-Za-z]+$/)).min(1),
      on: z.enum(PERMISSION_TARGETS),
      /** Why the function needs it: what a reviewer of the grant asks first. */
      why: z.string().min(1),
    }),
  ),
  trigger: triggerSchema,
});
export type FunctionSpec = z.infer<typeof functionSchema>;

export type FunctionName = keyof typeof declared;

/** The list as written, read where it is (Terraform reads the same file). */
export const DECLARATION_FILE = new URL('./functions.json', import.meta.url).pathname;

/** A declaration as functions.json holds it: a malformed entry is refused with its path and reason. */
export const declarationSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'a function name is lower-case letters, digits and hyphens'), functionSchema)
  // A route served twice, or a Sid twice in one policy, is refused here: the tools would each keep a
  // different one, and IAM refuses the policy only at deploy.
  .superRefine((declaration, context) => {
    const servedBy = new Map<string, string>();
    for (const [name, spec] of Object.entries(declaration)) {
      for (const route of spec.trigger.type === 'api' ? spec.trigger.routes : []) {
        const other = servedBy.get(route.toLowerCase());
        if (other) context.addIssue({ code: 'custom', path: [name, 'trigger', 'routes'], message: `${route} is served by ${other} already` });
        servedBy.set(route.toLowerCase(), name);
      }
      const sids = spec.permissions.map((permission) => permission.sid);
      for (const sid of new Set(sids.filter((sid, index) => sids.indexOf(sid) !== index))) context.addIssue({ code: 'custom', path: [name, 'permissions'], message: `Sid ${sid} is given twice` });
    }
  })
  ;

/** The declaration, checked: a malformed entry stops the build, the stack and the tests. */
export const functions = declarationSchema.parse(JSON.parse(readFileSync(DECLARATION_FILE, 'utf8'))) as Readonly<Record<FunctionName, FunctionSpec>>;

type QueueTrigger = Extract<Trigger, { type: 'queue' }>;

/** The most messages a FIFO event source mapping may hand a function at once (AWS's limit; standard queues take 10,000). */
export const FIFO_MAX_BATCH_SIZE = 10;

/**
 * What an SQS event source mapping is created with on a queue of this type. FIFO queues take no
 * batching window and batches of at most 10 (AWS Lambda's "Lambda parameters for Amazon SQS event
 * source mappings"), so the window is left out there, and a declared batch above 10 is an error
 * rather than a silent cut.
 */
export function mappingSettings(trigger: QueueTrigger, queueType: QueueType): { batchSize: number; maximumBatchingWindowSeconds: number | undefined; maximumConcurrency: number } {
  if (queueType === 'fifo' && trigger.batchSize > FIFO_MAX_BATCH_SIZE) throw new Error(`a FIFO event source mapping takes batches of at most ${FIFO_MAX_BATCH_SIZE}, not ${trigger.batchSize}`);
  return {
    batchSize: trigger.batchSize,
    maximumBatchingWindowSeconds: queueType === 'fifo' ? undefined : trigger.maximumBatchingWindowSeconds,
    maximumConcurrency: trigger.maximumConcurrency,
  };
}
export const functionNames = Object.keys(functions) as FunctionName[];

/** Every API route of every function, "METHOD /path". */
export const apiRoutes: readonly string[] = Object.values(functions as Record<string, FunctionSpec>).flatMap((spec) =>
  spec.trigger.type === 'api' ? spec.trigger.routes : [],
);


/**
 * The function's part of its IAM role's name, `<prefix><part>-<region>`. Role names are global to the
 * account and at most 64 characters; the longest prefix (20) and a region code (up to 16) leave 27,
 * so a longer name is cut to 20 and told apart by 6 hex digits of its SHA-1. Terraform spells the
 * same rule (terraform-backend/main.tf, `lambda_role_names`), so both flavours name a role alike.
 */
export function roleNamePart(name: string): string {
  return name.length <= 27 ? name : `${name.slice(0, 20)}-${createHash('sha1').update(name).digest('hex').slice(0, 6)}`;
}

/** A function's trigger, which must be of this type (the caller relies on it). */
export function triggerOf<Type extends Trigger['type']>(name: FunctionName, type: Type): Extract<Trigger, { type: Type }> {
  const trigger = functions[name].trigger;
  if (trigger.type !== type) throw new Error(`${name} is triggered by ${trigger.type}, not ${type}`);
  return trigger as Extract<Trigger, { type: Type }>;
}
