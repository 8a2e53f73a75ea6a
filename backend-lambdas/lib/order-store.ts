import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { entryOf, isFinal, type OrderStatus, type StatusChange } from '../../domain/lifecycle.js';
import { legacyAccountIdOf, type StoredOrder } from '../../domain/order.js';

/**
 * The orders table's key schema and indexes; the local stack creates the table from this, and the
 * parity test checks Terraform and CloudFormation create the same.
 */
export const orderTable = {
  partitionKey: 'order_id',
  /**
   * Sparse: only orders that are not final carry `due_shard` and `due_at`, so the kitchen's Query
   * reads exactly the orders it may have to move. The shard spreads them over several partitions.
   */
  dueIndex: {
    name: 'due-orders',
    partitionKey: 'due_shard',
    sortKey: 'due_at',
    projection: ['customer_id', 'customer_email', 'status', 'version', 'pending_event'],
  },
  dueShards: 4,
  /** An account's orders, newest first: "my orders". Sparse: an integration's orders have no account_id. */
  accountIndex: {
    name: 'account-orders',
    partitionKey: 'account_id',
    sortKey: 'received_at',
    projection: ['status', 'version', 'lines', 'total_cents', 'currency', 'order_date', 'status_history'],
  },
} as const;

/** The most keys one BatchGetItem call takes. */
export const BATCH_GET_LIMIT = 100;

/** What the kitchen reads of a due order, from the index alone. */
export interface DueOrder {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  version: number;
  due_at: string;
  /** Whether its events go to the customer mail subscription (see eventAttributes). */
  customer_email?: string;
  /** An event whose publish failed after its change was written; published first on the next run. */
  pending_event?: string;
}

/** What names an order to the store: its key, and the customer whose orders share a shard. */
export type OrderKey = Pick<StoredOrder, 'order_id' | 'customer_id'>;

/**
 * The shard of an order in the due index. By customer, so one Query returns a customer's due orders
 * together and in due order, and the kitchen can apply each customer's changes in order.
 */
export function dueShardOf(customerId: string): number {
  let hash = 0;
  for (let i = 0; i < customerId.length; i++) hash = (hash * 31 + customerId.charCodeAt(i)) >>> 0;
  return hash % orderTable.dueShards;
}

// Storage details that are not part of the order (and the claims of mails being sent, MAIL_CLAIM_PREFIX<event id>).
const INTERNAL = ['due_shard', 'pending_event', 'notified'] as const;
const MAIL_CLAIM_PREFIX = 'mail_claim:';

/** What claimNotification found: this caller may mail; the mail was sent; another delivery is sending it. */
export type NotificationClaim = 'claimed' | 'done' | 'busy';

/** One page of a customer's orders, newest first; `next` continues after it (absent on the last page). */
export interface OrderPage {
  orders: StoredOrder[];
  next: Record<string, unknown> | undefined;
}

function toOrder(item: Record<string, unknown>): StoredOrder {
  const order = { ...item };
  for (const name of INTERNAL) delete order[name];
  for (const name of Object.keys(order)) if (name.startsWith(MAIL_CLAIM_PREFIX)) delete order[name];
  // Checked out before account_id existed: read as its account's, and written so by migrateAccountOrders.
  order.account_id ??= legacyAccountIdOf(order);
  if (order.account_id === undefined) delete order.account_id;
  // The account index keys by account_id and does not project customer_id: on an account's order they are one.
  if (order.customer_id === undefined && typeof order.account_id === 'string') order.customer_id = order.account_id;
  // Orders stored before they had lines name one product at the top level: that is their one line.
  if (!Array.isArray(order.lines) && typeof order.product_id === 'string') {
    order.lines = [{ product_id: order.product_id, quantity: order.quantity, product_name: order.product_name, unit_price_cents: order.unit_price_cents, line_total_cents: order.total_cents }];
    for (const name of ['product_id', 'quantity', 'product_name', 'unit_price_cents']) delete order[name];
  }
  // Orders stored before the lifecycle existed say PROCESSED and have no history: they were done.
  if (order.status === 'PROCESSED' && !Array.isArray(order.status_history)) {
    const at = typeof order.processed_at === 'string' ? order.processed_at : String(order.received_at);
    delete order.processed_at;
    Object.assign(order, { status: 'COMPLETED', status_history: [{ status: 'COMPLETED', at }], version: 1 });
  }
  return order as unknown as StoredOrder;
}

export type OrderStore = ReturnType<typeof createOrderStore>;

/** Every read and write of the orders table. Nothing else builds a key or an expression for it. */
export function createOrderStore({ documents, tableName }: { documents: DynamoDBDocumentClient; tableName: string }) {
  const key = (order: OrderKey | string) => ({ [orderTable.partitionKey]: typeof order === 'string' ? order : order.order_id });

  async function conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await documents.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** SET of the index attributes when the order is due at `due`, REMOVE of them when it is final. */
  function dueUpdate(order: OrderKey, due: string | undefined) {
    return due === undefined
      ? { set: [], remove: ['due_at', 'due_shard'], values: {} }
      : { set: ['due_at = :due_at', 'due_shard = :due_shard'], remove: [], values: { ':due_at': due, ':due_shard': dueShardOf(order.customer_id) } };
  }

  const store = {
    tableName,

    /** Stores a new order unless one with its id is there; false for a duplicate (the first one wins). */
    async putOnce(order: StoredOrder): Promise<boolean> {
      const { due_at, ...rest } = order;
      const item = due_at === undefined ? rest : { ...rest, due_at, due_shard: dueShardOf(order.customer_id) };
      try {
        await documents.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: `attribute_not_exists(${orderTable.partitionKey})` }));
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    /** The order as stored now (a consistent read), or undefined. */
    async get(orderId: string): Promise<StoredOrder | undefined> {
      const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: key(orderId), ConsistentRead: true }));
      return Item ? toOrder(Item) : undefined;
    },

    /**
     * The orders of `orderIds` that are stored now (consistent reads, BatchGetItem, at most
     * BATCH_GET_LIMIT ids), in no particular order. Keys DynamoDB leaves unprocessed (throttled) are
     * asked again with a backoff; any still left after that fail the call rather than read as missing.
     */
    async getMany(orderIds: readonly string[]): Promise<StoredOrder[]> {
      if (orderIds.length > BATCH_GET_LIMIT) throw new RangeError(`At most ${BATCH_GET_LIMIT} orders a call, not ${orderIds.length}`);
      const found: StoredOrder[] = [];
      let keys = [...new Set(orderIds)].map(key);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt === 4) throw new Error(`${keys.length} orders were left unread after ${attempt} attempts`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        const { Responses, UnprocessedKeys } = await documents.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }));
        found.push(...(Responses?.[tableName] ?? []).map(toOrder));
        keys = (UnprocessedKeys?.[tableName]?.Keys ?? []) as typeof keys;
      }
      return found;
    },

    /**
     * Writes a status change if the order is still in the status and version it was read in; false
     * when it has changed meanwhile (another run moved it first), and then nothing is written.
     */
    applyChange(order: OrderKey, change: StatusChange, { pendingEvent }: { pendingEvent?: string } = {}): Promise<boolean> {
      // With its event kept on it, the order is due now: the kitchen's next run publishes the event if its writer does not.
      const due = dueUpdate(order, pendingEvent === undefined ? change.due_at : change.at);
      const pending = pendingEvent === undefined ? {} : { ':event': pendingEvent };
      return conditional(
        new UpdateCommand({
          TableName: tableName,
          Key: key(order),
          UpdateExpression: [
            `SET ${['#status = :to', 'version = :version', 'status_history = list_append(status_history, :entry)', ...due.set, ...(pendingEvent === undefined ? [] : ['pending_event = :event'])].join(', ')}`,
            ...(due.remove.length ? [`REMOVE ${due.remove.join(', ')}`] : []),
          ].join(' '),
          ConditionExpression: '#status = :from AND version = :from_version',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':to': change.to,
            ':version': change.version,
            ':entry': [entryOf(change)],
            ':from': change.from,
            ':from_version': change.fromVersion,
            ...due.values,
            ...pending,
          },
        }),
      );
    },

    /** Keeps an event whose publish failed on the order, due now, so the next kitchen run publishes it. */
    keepPendingEvent(order: OrderKey, version: number, event: string, now: Date): Promise<boolean> {
      return conditional(
        new UpdateCommand({
          TableName: tableName,
          Key: key(order),
          UpdateExpression: 'SET pending_event = :event, due_at = :due_at, due_shard = :due_shard',
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':event': event, ':version': version, ':due_at': now.toISOString(), ':due_shard': dueShardOf(order.customer_id) },
        }),
      );
    },

    /** Drops a published pending event and puts the order back at its real due time (or out of the index). */
    clearPendingEvent(order: OrderKey, version: number, dueAt: string | undefined): Promise<boolean> {
      const due = dueUpdate(order, dueAt);
      return conditional(
        new UpdateCommand({
          TableName: tableName,
          Key: key(order),
          UpdateExpression: [...(due.set.length ? [`SET ${due.set.join(', ')}`] : []), `REMOVE ${['pending_event', ...due.remove].join(', ')}`].join(' '),
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': version, ...due.values },
        }),
      );
    },

    /** The orders due at `now`, a page at a time, from the sparse index (a Query per shard, never a Scan). */
    async *dueOrders(now: Date, { pageSize = 100 }: { pageSize?: number } = {}): AsyncGenerator<DueOrder[]> {
      const { name, partitionKey, sortKey } = orderTable.dueIndex;
      for (let shard = 0; shard < orderTable.dueShards; shard++) {
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await documents.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: name,
              KeyConditionExpression: `${partitionKey} = :shard AND ${sortKey} <= :now`,
              ExpressionAttributeValues: { ':shard': shard, ':now': now.toISOString() },
              Limit: pageSize,
              ExclusiveStartKey,
            }),
          );
          if (page.Items?.length) yield page.Items as DueOrder[];
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
      }
    },

    /**
     * The orders not yet final (the staff's board), oldest first, at most `limit`: the sparse due
     * index holds exactly those (a final order leaves it), read a shard at a time; then each whole
     * order by key. `truncated` says more were open than were read or shown.
     */
    async openOrders(limit: number): Promise<{ orders: StoredOrder[]; truncated: boolean }> {
      const { name, partitionKey } = orderTable.dueIndex;
      const ids: string[] = [];
      // A backlog (the kitchen's rule disabled, say) must not make each read of the board slower than
      // the function may run: at most `limit` ids a shard are read, and the board says it is cut.
      let cut = false;
      for (let shard = 0; shard < orderTable.dueShards; shard++) {
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        let read = 0;
        do {
          const page = await documents.send(
            new QueryCommand({ TableName: tableName, IndexName: name, KeyConditionExpression: `${partitionKey} = :shard`, ExpressionAttributeValues: { ':shard': shard }, ProjectionExpression: 'order_id', Limit: limit - read, ExclusiveStartKey }),
          );
          const found = (page.Items ?? []).map((item) => item.order_id as string);
          ids.push(...found);
          read += found.length;
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey && read < limit);
        if (ExclusiveStartKey) cut = true;
      }
      const orders: StoredOrder[] = [];
      for (let start = 0; start < ids.length; start += BATCH_GET_LIMIT) orders.push(...(await store.getMany(ids.slice(start, start + BATCH_GET_LIMIT))));
      // Read a moment after the index: one that turned final meanwhile is not open.
      const open = orders.filter((order) => !isFinal(order.status)).sort((a, b) => a.received_at.localeCompare(b.received_at) || a.order_id.localeCompare(b.order_id));
      return { orders: open.slice(0, limit), truncated: cut || open.length > limit };
    },

    /**
     * An account's orders, newest first, `limit` at a time, by Query on the account index. `after`
     * is the `next` of the page before; it must be one of this account's (the caller checks it).
     */
    async ordersOf(accountId: string, { limit, after }: { limit: number; after?: Record<string, unknown> | undefined }): Promise<OrderPage> {
      const { name, partitionKey } = orderTable.accountIndex;
      const page = await documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: name,
          KeyConditionExpression: `${partitionKey} = :account`,
          ExpressionAttributeValues: { ':account': accountId },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: after,
        }),
      );
      return { orders: (page.Items ?? []).map(toOrder), next: page.LastEvaluatedKey };
    },

    /**
     * Claims the mail about this event of the order for one delivery, until `now + leaseMs`: a second
     * delivery of the same event meanwhile finds it 'busy' (and is retried later), one after the mail
     * finds it 'done'. A claim whose lease has run out (its holder crashed) can be taken again, so a
     * customer is mailed once, or, if a holder dies between sending and marking, at worst twice: never none.
     */
    async claimNotification(orderId: string, eventId: string, now: Date, leaseMs: number): Promise<NotificationClaim> {
      const claimed = await conditional(
        new UpdateCommand({
          TableName: tableName,
          Key: key(orderId),
          UpdateExpression: 'SET #claim = :until',
          ConditionExpression: `attribute_exists(${orderTable.partitionKey}) AND NOT contains(notified, :event) AND (attribute_not_exists(#claim) OR #claim < :now)`,
          ExpressionAttributeNames: { '#claim': `${MAIL_CLAIM_PREFIX}${eventId}` },
          ExpressionAttributeValues: { ':until': now.getTime() + leaseMs, ':now': now.getTime(), ':event': eventId },
        }),
      );
      if (claimed) return 'claimed';
      const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: key(orderId), ConsistentRead: true, ProjectionExpression: 'notified' }));
      return (Item?.notified as Set<string> | undefined)?.has(eventId) ? 'done' : 'busy';
    },

    /** Lets a claim go without a mail (sending failed): the next delivery may claim it at once. */
    async releaseNotification(orderId: string, eventId: string): Promise<void> {
      await documents.send(new UpdateCommand({ TableName: tableName, Key: key(orderId), UpdateExpression: 'REMOVE #claim', ExpressionAttributeNames: { '#claim': `${MAIL_CLAIM_PREFIX}${eventId}` } }));
    },

    /** Records that the customer was mailed about this event of the order, and lets its claim go. */
    async markNotified(orderId: string, eventId: string): Promise<void> {
      await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(orderId),
          UpdateExpression: 'ADD notified :event REMOVE #claim',
          ConditionExpression: `attribute_exists(${orderTable.partitionKey})`,
          ExpressionAttributeNames: { '#claim': `${MAIL_CLAIM_PREFIX}${eventId}` },
          ExpressionAttributeValues: { ':event': new Set([eventId]) },
        }),
      );
    },

    /**
     * Gives every order checked out before account_id existed its account_id (see legacyAccountIdOf in domain/order.ts),
     * so the account index lists it; by Scan, once, after a deploy that adds the index. Returns how many.
     */
    async migrateAccountOrders(): Promise<number> {
      let migrated = 0;
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new ScanCommand({ TableName: tableName, ExclusiveStartKey, FilterExpression: 'attribute_exists(customer_email) AND attribute_not_exists(account_id)', ProjectionExpression: 'order_id, customer_id' }),
        );
        for (const item of page.Items ?? []) {
          const written = await conditional(
            new UpdateCommand({
              TableName: tableName,
              Key: key(item.order_id as string),
              UpdateExpression: 'SET account_id = customer_id',
              ConditionExpression: 'attribute_exists(customer_email) AND attribute_not_exists(account_id)',
            }),
          );
          if (written) migrated++;
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return migrated;
    },

    /** Every order, by Scan: for the local console and tests, never for a request path. */
    async all(): Promise<StoredOrder[]> {
      const orders: StoredOrder[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
        orders.push(...(page.Items ?? []).map(toOrder));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return orders;
    },
  };
  return store;
}
