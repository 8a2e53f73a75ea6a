import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { ConflictError, DependencyUnavailableError } from '../../domain/errors.js';
import { settings } from '../../platform/settings.js';
import { catalogue as seedCatalogue, createCatalogue, createMenu, SEED_PRODUCTS, type Menu, type Product } from '../../domain/catalogue.js';

/** The products table's key; the local stack and the IaC create it from this. */
export const productTable = { partitionKey: 'product_id' } as const;

/** One change of a product, as its history keeps it: who, when, and the product as they left it. */
export interface ProductChange {
  at: string;
  by: string;
  name: string;
  description: string;
  category: string;
  unit_price_cents: number;
  available: boolean;
}

/** A product as the table stores it: the product, how many times it was changed, and by whom. */
export interface StoredProduct extends Omit<Product, 'id'> {
  product_id: string;
  version: number;
  updated_at?: string;
  history?: ProductChange[];
}

export type ProductStore = ReturnType<typeof createProductStore>;

const toProduct = ({ product_id, name, description, category, unit_price_cents, available, version }: StoredProduct): Product => ({
  id: product_id,
  name,
  description,
  category,
  unit_price_cents,
  // Written by every path; an item made by hand without it is on the menu, as a new product is.
  available: available !== false,
  version,
});

/** The most changes a product's history keeps: the latest, so the item stays small however often it changes. */
export const MAX_PRODUCT_HISTORY = 50;

/** What a reader needs of an item: not its history. */
const MENU_FIELDS = ['product_id', '#name', 'description', 'category', 'unit_price_cents', 'available', 'version'];

/** Every read and write of the products table: a small table, read whole. */
export function createProductStore({ documents, tableName }: { documents: DynamoDBDocumentClient; tableName: string }) {
  async function get(productId: string): Promise<StoredProduct | undefined> {
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { [productTable.partitionKey]: productId }, ConsistentRead: true }));
    return Item as StoredProduct | undefined;
  }

  return {
    /** Every product as the menu reads it, without its history (a few dozen small items: one page of a Scan, followed if there are more). */
    async list(): Promise<StoredProduct[]> {
      const items: StoredProduct[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new ScanCommand({ TableName: tableName, ProjectionExpression: MENU_FIELDS.join(', '), ExpressionAttributeNames: { '#name': 'name' }, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        items.push(...((page.Items ?? []) as StoredProduct[]));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },

    /** One product, history and all (a consistent read); undefined when it is not in the table. */
    get,

    /**
     * Puts each product that is not in the table yet; one already there (a staff change, another
     * seeding at the same moment) is left as it is. Returns how many were written.
     */
    async seed(products: readonly Product[] = SEED_PRODUCTS): Promise<number> {
      let written = 0;
      for (const { id, ...product } of products) {
        try {
          await documents.send(
            new PutCommand({ TableName: tableName, Item: { product_id: id, ...product, version: 1 }, ConditionExpression: `attribute_not_exists(${productTable.partitionKey})` }),
          );
          written++;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
      return written;
    },

    /**
     * Adds `product` or changes it to what is given, one version on, its change last on its history
     * (the latest MAX_PRODUCT_HISTORY kept). With a `version` (the one a form showed), only if it is
     * still at it; in any case only if nobody changed it since it was read here: otherwise
     * ConflictError, and nothing is written.
     */
    async save(product: Product, by: string, at: Date): Promise<StoredProduct> {
      const { id, version: expectedVersion, ...fields } = product;
      const current = await get(id);
      const conflict = () => new ConflictError(`${current?.name ?? id} was changed meanwhile: look at it again and save again`);
      if (expectedVersion !== undefined && (current?.version ?? 0) !== expectedVersion) throw conflict();
      const change: ProductChange = { at: at.toISOString(), by, ...fields };
      const next: StoredProduct = { product_id: id, ...fields, version: (current?.version ?? 0) + 1, updated_at: change.at, history: [...(current?.history ?? []), change].slice(-MAX_PRODUCT_HISTORY) };
      try {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: next,
            ...(current
              ? { ConditionExpression: 'version = :read', ExpressionAttributeValues: { ':read': current.version } }
              : { ConditionExpression: `attribute_not_exists(${productTable.partitionKey})` }),
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) throw conflict();
        throw error;
      }
      return next;
    },
  };
}

/**
 * The menu: the table's products over the seed's. Products are never deleted (only made unavailable),
 * so a seed product not in the table is one nobody changed: a new deployment's empty table, or one
 * whose filling was cut short, reads as the seed menu it is being filled with.
 */
export async function readCatalogue(store: Pick<ProductStore, 'list'>) {
  const stored = await store.list();
  return stored.length === 0 ? seedCatalogue : createCatalogue([...SEED_PRODUCTS.filter((product) => !stored.some((item) => item.product_id === product.id)), ...stored.map(toProduct)]);
}


export const menuEnvironment = z.object({ PRODUCTS_TABLE_NAME: z.string().check(z.minLength(3)) });

/** A menu over the products table, kept `ttlSeconds`. */
export function tableMenu(documents: DynamoDBDocumentClient, tableName: string, ttlSeconds = settings.menu.cacheSeconds): Menu {
  const store = createProductStore({ documents, tableName });
  return createMenu({ load: () => readCatalogue(store), ttlMs: ttlSeconds * 1000 });
}

/**
 * A function's menu: the host's (the local stack shares one among its functions) or one over the
 * table. A read that fails (with no menu read before) is a 503 to the caller.
 */
export function menuFor(env: z.infer<typeof menuEnvironment>, documents: DynamoDBDocumentClient, shared?: Menu): Menu {
  const menu = shared ?? tableMenu(documents, env.PRODUCTS_TABLE_NAME);
  return {
    catalogue: (wanted) => menu.catalogue(wanted).catch((error: unknown) => Promise.reject(new DependencyUnavailableError('menu', 2, { cause: error }))),
    invalidate: () => menu.invalidate(),
  };
}
