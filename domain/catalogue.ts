/** A product the shop sells. Prices are integer cents so totals never drift. */
export interface Product {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly unit_price_cents: number;
}

export type Catalogue = ReadonlyMap<string, Product>;

export const CURRENCY = 'USD';

const products: readonly Product[] = [
  { id: 'Banana', name: 'Banana', description: 'One ripe banana.', unit_price_cents: 35 },
  { id: 'Margherita', name: 'Pizza Margherita', description: 'Tomato, mozzarella, basil.', unit_price_cents: 1150 },
  { id: 'Pepperoni', name: 'Pizza Pepperoni', description: 'Tomato, mozzarella, pepperoni.', unit_price_cents: 1325 },
  { id: 'Funghi', name: 'Pizza Funghi', description: 'Tomato, mozzarella, mushrooms.', unit_price_cents: 1250 },
  { id: 'QuattroFormaggi', name: 'Pizza Quattro Formaggi', description: 'Four cheeses.', unit_price_cents: 1400 },
];

/** Builds a catalogue keyed by product id. */
export function createCatalogue(items: readonly Product[]): Catalogue {
  return new Map(items.map((product) => [product.id, product]));
}

/** The shop's catalogue. */
export const catalogue: Catalogue = createCatalogue(products);

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
