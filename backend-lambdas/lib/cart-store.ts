import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Cart } from '../../domain/cart.js';

/** The carts table's key and TTL attribute; the local stack and the IaC create it from this. */
export const cartTable = { partitionKey: 'customer_id', ttlAttribute: 'expires_at' } as const;

export type CartStore = ReturnType<typeof createCartStore>;

/** Every read and write of the carts table: one item per customer, written whole, conditional on its version. */
export function createCartStore({ documents, tableName }: { documents: DynamoDBDocumentClient; tableName: string }) {
  return {
    /** The customer's stored cart (a consistent read), expired or not; undefined when there is none. */
    async get(customerId: string): Promise<Cart | undefined> {
      const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { [cartTable.partitionKey]: customerId }, ConsistentRead: true }));
      return Item as Cart | undefined;
    },

    /**
     * Writes `cart` if the stored one is still at the version it was read at (`cart.version - 1`),
     * or there is none yet; false when another request changed it first (nothing is written).
     */
    async put(cart: Cart): Promise<boolean> {
      try {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: cart,
            ConditionExpression: `attribute_not_exists(${cartTable.partitionKey}) OR version = :read`,
            ExpressionAttributeValues: { ':read': cart.version - 1 },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}
