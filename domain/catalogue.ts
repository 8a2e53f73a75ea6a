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
}

export type Catalogue = ReadonlyMap<string, Product>;

export const CURRENCY = 'USD';

const products: readonly Product[] = [
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
];

/** The menu by section, each in the catalogue's own order; a section with nothing in it is left out. */
export function menuSections(catalogue: Catalogue): { id: Category; title: string; products: Product[] }[] {
  const products = [...catalogue.values()];
  return CATEGORIES.map(({ id, title }) => ({ id, title, products: products.filter((product) => product.category === id) })).filter((section) => section.products.length > 0);
}

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
