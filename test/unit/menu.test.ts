// The menu as data: what staff may send for a product, and how long each reader keeps the menu it read.
import { catalogue, createCatalogue, createMenu, parseProductInput, type Catalogue } from '../../domain/catalogue.js';
import { ValidationError } from '../../domain/errors.js';

function issuesOf(input: unknown) {
  try {
    parseProductInput(input);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const valid = { product_id: 'Focaccia', name: '  Focaccia ', description: 'Rosemary.', category: 'starters', price: '6.50', available: 'true' };

describe('a product as staff send it', () => {
  it('when the fields are good, then the price is read as a customer writes it, in minor units, and names are trimmed', () => {
    expect(parseProductInput(valid)).toEqual({ id: 'Focaccia', name: 'Focaccia', description: 'Rosemary.', category: 'starters', unit_price_cents: 650, available: true });
    expect(parseProductInput({ ...valid, price: '12' }).unit_price_cents).toBe(1200);
    expect(parseProductInput({ ...valid, price: '0.1' }).unit_price_cents).toBe(10);
    expect(parseProductInput({ ...valid, price: '1000.00' }).unit_price_cents).toBe(100_000);
    // A form's unticked box is "false"; JSON may send a boolean; absent, the product is available.
    expect(parseProductInput({ ...valid, available: 'false' }).available).toBe(false);
    expect(parseProductInput({ ...valid, available: false }).available).toBe(false);
    const { available: _available, description: _description, ...bare } = valid;
    expect(parseProductInput(bare)).toMatchObject({ available: true, description: '' });
  });

  it.each([
    ['a price with three decimals', { price: '6.505' }, 'price'],
    ['a price of nothing', { price: '0.00' }, 'price'],
    ['a negative price', { price: '-1' }, 'price'],
    ['a price above the most', { price: '1000.01' }, 'price'],
    ['a price as a number', { price: 6.5 }, 'price'],
    ['an id with a slash', { product_id: 'a/b' }, 'product_id'],
    ['an id of dots', { product_id: '..' }, 'product_id'],
    ['an empty name', { name: '   ' }, 'name'],
    ['a name too long', { name: 'x'.repeat(81) }, 'name'],
    ['an unknown section', { category: 'soups' }, 'category'],
    ['an unknown field', { colour: 'red' }, 'colour'],
    ['"available" as anything else', { available: 'yes' }, 'available'],
  ])('when it has %s, then it is refused naming that field', (_what, change, field) => {
    expect(issuesOf({ ...valid, ...change }).map((issue) => issue.field)).toEqual([field]);
  });

  it('when it is not an object, then it is refused as a whole', () => {
    expect(issuesOf('Focaccia')).toEqual([{ field: 'body', message: 'Must be a JSON object' }]);
  });
});

describe('the menu a reader keeps', () => {
  function reader(ttlMs = 10_000) {
    let now = 0;
    const reads: number[] = [];
    let current: Catalogue = catalogue;
    const menu = createMenu({
      load: () => {
        reads.push(now);
        return Promise.resolve(current);
      },
      ttlMs,
      clock: () => now,
    });
    return {
      menu,
      reads,
      at: (ms: number) => (now = ms),
      change: (next: Catalogue) => (current = next),
    };
  }

  it('when asked again within its time, then it is not read again; after it, it is', async () => {
    const { menu, reads, at } = reader();
    await menu.catalogue();
    at(9_999);
    await menu.catalogue();
    expect(reads).toEqual([0]);
    at(10_000);
    await menu.catalogue();
    expect(reads).toEqual([0, 10_000]);
  });

  it('when many ask at once before the first read is back, then the table is read once', async () => {
    const { menu, reads } = reader();
    const all = await Promise.all(Array.from({ length: 50 }, () => menu.catalogue()));
    expect(reads).toHaveLength(1);
    expect(new Set(all).size).toBe(1);
  });

  it('when asked for a product it does not know, then it reads again at once, but at most once a second however many unknown ids are asked for', async () => {
    const { menu, reads, at, change } = reader();
    await menu.catalogue();
    at(1_000);
    change(createCatalogue([...catalogue.values(), { id: 'Focaccia', name: 'Focaccia', description: '', category: 'starters', unit_price_cents: 650, available: true }]));
    expect((await menu.catalogue(['Focaccia'])).has('Focaccia')).toBe(true);
    expect(reads).toEqual([0, 1_000]);
    for (let i = 0; i < 100; i++) await menu.catalogue([`Made-up-${i}`]);
    expect(reads).toEqual([0, 1_000]);
    at(2_000);
    await menu.catalogue(['Made-up-x']);
    expect(reads).toEqual([0, 1_000, 2_000]);
    // Known ids never cause a read.
    at(2_500);
    await menu.catalogue(['Focaccia', 'Margherita']);
    expect(reads).toHaveLength(3);
  });

  it('when it is emptied (a change this process made), then the next ask reads it again; a read that was under way as it was emptied is not kept as fresh', async () => {
    const { menu, reads, at } = reader();
    await menu.catalogue();
    menu.invalidate();
    await menu.catalogue();
    expect(reads).toEqual([0, 0]);

    at(20_000);
    const during = menu.catalogue();
    menu.invalidate();
    await during;
    at(20_001);
    await menu.catalogue();
    expect(reads).toEqual([0, 0, 20_000, 20_001]);
  });

  it('when a read fails, then the caller gets the error and the next ask tries again', async () => {
    let fail = true;
    const menu = createMenu({ load: () => (fail ? Promise.reject(new Error('table down')) : Promise.resolve(catalogue)), ttlMs: 10_000 });
    await expect(menu.catalogue()).rejects.toThrow('table down');
    fail = false;
    await expect(menu.catalogue()).resolves.toBe(catalogue);
  });
});
