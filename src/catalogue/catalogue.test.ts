import { describe, expect, it } from 'vitest';
import { parseCatalogue } from './catalogue.js';

describe('catalogue', () => {
  it('finds products by sku with integer fen prices', () => {
    const result = parseCatalogue([{ sku: 'coffee', name: '咖啡', price: 1 }]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.catalogue.find('coffee')).toEqual({
      sku: 'coffee',
      name: '咖啡',
      description: '',
      price: 1,
    });
    expect(result.catalogue.find('tea')).toBeUndefined();
  });

  it('rejects yuan-with-decimals prices, duplicates and missing names, all reported together', () => {
    const result = parseCatalogue([
      { sku: 'a', name: 'A', price: 0.019 },
      { sku: 'a', name: 'B', price: 100 },
      { sku: 'b', price: 0 },
    ]);
    expect(result).toEqual({
      ok: false,
      problems: [
        'product #1: price must be a whole number of fen, at least 1 (got 0.019)',
        'product #2: sku a appears twice',
        'product #3: name is required',
        'product #3: price must be a whole number of fen, at least 1 (got 0)',
      ],
    });
  });
});
