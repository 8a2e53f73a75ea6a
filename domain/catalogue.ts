import * as z from 'zod/mini';
import { toFieldIssues, ValidationError } from './errors.js';

/** The menu's sections, in the order a customer reads them. */
export const CATEGORIES = [
  { id: 'pizzas', title: 'Pizzas' },
  { id: 'starters', title: 'Starters' },
  { id: 'salads', title: 'Salads' },
  { id: 'desserts', title: 'Desserts' },
  { id: 'drinks', title: 'Drinks' },
] as const;
export type Category = (typeof CATEGORIES)[number]['id'];

/** A product the shop sells. Prices are integer cents so totals never drift. */
export interface Product {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly category: Category;
  readonly unit_price_cents: number;
  /** False while staff have taken it off for now: it stays on the menu, marked, and cannot be ordered. */
  readonly available: boolean;
  /** One more at every change (a seed product is at 1): a staff form sends the one it showed. */
  readonly version?: number;
}

export type Catalogue = ReadonlyMap<string, Product>;

export const CURRENCY = 'USD';

/** Today's menu, which a new products table is filled with (backend-lambdas/lib/product-store.ts). */
export const SEED_PRODUCTS: readonly Product[] = ([
  { id: 'Banana', name: 'Banana', description: 'One ripe banana.', category: 'desserts', unit_price_cents: 35 },
  { id: 'Margherita', name: 'Pizza Margherita', description: 'Tomato, mozzarella, basil.', category: 'pizzas', unit_price_cents: 1150 },
  { id: 'Pepperoni', name: 'Pizza Pepperoni', description: 'Tomato, mozzarella, pepperoni.', category: 'pizzas', unit_price_cents: 1325 },
  { id: 'Funghi', name: 'Pizza Funghi', description: 'Tomato, mozzarella, mushrooms.', category: 'pizzas', unit_price_cents: 1250 },
  { id: 'QuattroFormaggi', name: 'Pizza Quattro Formaggi', description: 'Four cheeses.', category: 'pizzas', unit_price_cents: 1400 },
  { id: 'Marinara', name: 'Pizza Marinara', description: 'Tomato, garlic, oregano, olive oil.', category: 'pizzas', unit_price_cents: 950 },
  { id: 'Diavola', name: 'Pizza Diavola', description: 'Tomato, mozzarella, spicy salami, chilli.', category: 'pizzas', unit_price_cents: 1375 },
  { id: 'Capricciosa', name: 'Pizza Capricciosa', description: 'Ham, mushrooms, artichokes, olives.', category: 'pizzas', unit_price_cents: 1450 },
  { id: 'Hawaiian', name: 'Pizza Hawaiian', description: 'Tomato, mozzarella, ham, pineapple.', category: 'pizzas', unit_price_cents: 1300 },
  { id: 'Vegetariana', name: 'Pizza Vegetariana', description: 'Peppers, courgette, aubergine, onion.', category: 'pizzas', unit_price_cents: 1275 },
  { id: 'Calzone', name: 'Calzone', description: 'Folded pizza: ricotta, ham, mozzarella.', category: 'pizzas', unit_price_cents: 1425 },
  { id: 'GarlicBread', name: 'Garlic bread', description: 'Baked with garlic butter and parsley.', category: 'starters', unit_price_cents: 495 },
  { id: 'Bruschetta', name: 'Bruschetta', description: 'Toasted bread, tomato, basil.', category: 'starters', unit_price_cents: 575 },
  { id: 'CaesarSalad', name: 'Caesar salad', description: 'Romaine, parmesan, croutons.', category: 'salads', unit_price_cents: 825 },
  { id: 'Caprese', name: 'Insalata Caprese', description: 'Tomato, mozzarella, basil.', category: 'salads', unit_price_cents: 795 },
  { id: 'Tiramisu', name: 'Tiramisu', description: 'Coffee, mascarpone, cocoa.', category: 'desserts', unit_price_cents: 650 },
  { id: 'PannaCotta', name: 'Panna cotta', description: 'With berry coulis.', category: 'desserts', unit_price_cents: 595 },
  { id: 'Gelato', name: 'Gelato', description: 'Two scoops, vanilla and pistachio.', category: 'desserts', unit_price_cents: 450 },
  { id: 'Lemonade', name: 'Lemonade', description: 'Fresh lemons, 33 cl.', category: 'drinks', unit_price_cents: 325 },
  { id: 'Cola', name: 'Cola', description: 'Can, 33 cl.', category: 'drinks', unit_price_cents: 250 },
  { id: 'SparklingWater', name: 'Sparkling water', description: 'Bottle, 50 cl.', category: 'drinks', unit_price_cents: 225 },
  { id: 'Espresso', name: 'Espresso', description: 'A single shot.', category: 'drinks', unit_price_cents: 195 },
] satisfies Omit<Product, 'available'>[]).map((product) => ({ ...product, available: true, version: 1 }));

/** The menu by section, each in the catalogue's own order; a section with nothing in it is left out. */
export function menuSections(catalogue: Catalogue): { id: Category; title: string; products: Product[] }[] {
  const products = [...catalogue.values()];
  return CATEGORIES.map(({ id, title }) => ({ id, title, products: products.filter((product) => product.category === id) })).filter((section) => section.products.length > 0);
}

/** Builds a catalogue keyed by product id. */
export function createCatalogue(items: readonly Product[]): Catalogue {
  return new Map(items.map((product) => [product.id, product]));
}

/**
 * The seed menu as a catalogue: what every reader serves while the products table is still empty,
 * and what prices a queued order from before orders carried their prices.
 */
export const catalogue: Catalogue = createCatalogue(SEED_PRODUCTS);

// Building an Intl.NumberFormat costs far more than formatting with one: build one per currency, once.
const formatters = new Map<string, Intl.NumberFormat>();

/** Formats cents as a price, for example 1150 -> "$11.50". */
export function formatPrice(cents: number, currency: string = CURRENCY): string {
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    formatters.set(currency, formatter);
  }
  return formatter.format(cents / 100);
}

/** A product id: what a cart's URL and a form carry, so letters, digits, "-" and "_" only. */
export const PRODUCT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
/** The most a product may cost, in minor units: a typo of a few zeros is refused, not sold. */
export const MAX_PRICE_CENTS = 100_000;
export const MAX_PRODUCT_NAME = 80;

const CATEGORY_IDS = CATEGORIES.map((category) => category.id) as [Category, ...Category[]];
const text = (max: number, what: string) => z.pipe(z.string({ error: `Must be ${what}` }), z.transform((value) => value.trim())).check(z.maxLength(max, { error: `Must be at most ${max} characters` }));

/**
 * What staff send to add or change a product (POST /staff/menu): the price as a customer reads it
 * ("12.50"), `available` as a boolean or a form's "true"/"false"/"on". Unknown fields are refused.
 */
// Built at first use, not at import: every function imports this module, and few take staff's input.
const productInputSchema = () => z.strictObject(
  {
    product_id: z.string({ error: 'Required' }).check(z.regex(PRODUCT_ID_PATTERN, { error: 'Must be 1 to 40 letters, digits, "-" or "_", starting with a letter or digit' })),
    name: text(MAX_PRODUCT_NAME, 'text').check(z.minLength(1, { error: 'Must not be empty' })),
    description: z.optional(text(300, 'text')),
    category: z.enum(CATEGORY_IDS, { error: `Must be one of: ${CATEGORY_IDS.join(', ')}` }),
    price: z.pipe(
      z.string({ error: 'Must be a price such as 12.50' }).check(z.regex(/^\s*\d{1,6}(\.\d{1,2})?\s*$/, { error: 'Must be a price such as 12.50' })),
      z.transform((value) => Math.round(Number(value) * 100)),
    ).check(z.minimum(1, { error: 'Must be more than 0' }), z.maximum(MAX_PRICE_CENTS, { error: `Must be at most ${formatPrice(MAX_PRICE_CENTS)}` })),
    available: z.optional(z.union([z.boolean(), z.pipe(z.enum(['true', 'false', 'on']), z.transform((value) => value !== 'false'))], { error: 'Must be true or false' })),
    // The version the form showed: a change made meanwhile (another member, another tab) is refused, not overwritten.
    version: z.optional(
      z.union([z.int(), z.pipe(z.string().check(z.regex(/^\d{1,9}$/)), z.transform(Number))], { error: 'Must be the version the form showed (a whole number)' }).check(z.minimum(1, { error: 'Must be at least 1' })),
    ),
  },
  { error: 'Must be a JSON object' },
);
let productInput: ReturnType<typeof productInputSchema> | undefined;

/** A product as staff send it, checked; throws ValidationError naming every bad field. Absent, `available` is true. */
export function parseProductInput(input: unknown): Product {
  const parsed = z.safeParse((productInput ??= productInputSchema()), input);
  if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
  const { product_id: id, name, description = '', category, price, available = true, version } = parsed.data;
  return { id, name, description, category, unit_price_cents: price, available, ...(version !== undefined ? { version } : {}) };
}

/** A product as the API writes it (GET /menu, POST /staff/menu). */
export interface ProductJson {
  product_id: string;
  name: string;
  description: string;
  category: Category;
  unit_price_cents: number;
  available: boolean;
  version?: number;
}

export function productJson({ id, ...rest }: Product): ProductJson {
  return { product_id: id, ...rest };
}

export function productFromJson({ product_id, ...rest }: ProductJson): Product {
  return { id: product_id, ...rest };
}

/** The catalogue's products in the menu's order: by section, then by name. */
export function sortedProducts(products: Iterable<Product>): Product[] {
  const rank = new Map<string, number>(CATEGORY_IDS.map((id, index) => [id, index]));
  return [...products].sort((a, b) => (rank.get(a.category) ?? 99) - (rank.get(b.category) ?? 99) || a.name.localeCompare(b.name, 'en'));
}

/**
 * The menu as each reader keeps it: read at most once per `ttlMs` (one read at a time however many
 * ask), at once when asked for a product it does not know yet (at most once per `missRefreshMs`, so
 * a stream of made-up ids cannot turn into a read each), and at once after `invalidate()` (a change
 * this process made). A change made elsewhere reaches it within `ttlMs`. When a read fails, the
 * last menu read is served (and the next ask reads again); with none, the caller gets the error.
 */
export interface Menu {
  catalogue(wanted?: Iterable<string>): Promise<Catalogue>;
  invalidate(): void;
}

/** A menu that never changes: the seed's, or a test's own catalogue (a Map it may change as it runs). */
export function fixedMenu(fixed: Catalogue = catalogue): Menu {
  return { catalogue: () => Promise.resolve(fixed), invalidate() {} };
}

/** Why a menu is read: `fresh` after invalidate() or for an unknown product, when a reader's own cache must not answer. */
export type MenuLoad = (why: { fresh: boolean }) => Promise<Catalogue>;

export function createMenu({ load, ttlMs, missRefreshMs = 1000, clock = () => Date.now() }: { load: MenuLoad; ttlMs: number; missRefreshMs?: number; clock?: () => number }): Menu {
  let current: { catalogue: Catalogue; at: number } | undefined;
  let last: Catalogue | undefined;
  let loading: { promise: Promise<Catalogue>; generation: number } | undefined;
  let generation = 0;

  function reload(fresh: boolean): Promise<Catalogue> {
    // A read begun before the last invalidate() may not hold the change: a new one is begun.
    if (loading?.generation === generation) return loading.promise;
    const started = generation;
    const at = clock();
    const promise = load({ fresh })
      .then(
        (catalogue) => {
          if (started === generation) current = { catalogue, at };
          last = catalogue;
          return catalogue;
        },
        (error: unknown) => {
          if (last) return last;
          throw error;
        },
      )
      .finally(() => {
        if (loading?.promise === promise) loading = undefined;
      });
    loading = { promise, generation: started };
    return promise;
  }

  return {
    catalogue(wanted = []) {
      const now = clock();
      if (!current) return reload(true);
      if (now - current.at >= ttlMs) return reload(false);
      const { catalogue, at } = current;
      for (const id of wanted) {
        if (!catalogue.has(id) && now - at >= missRefreshMs) return reload(true);
      }
      return Promise.resolve(catalogue);
    },
    invalidate() {
      generation++;
      current = undefined;
    },
  };
}
