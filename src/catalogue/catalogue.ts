import { readFileSync } from 'node:fs';

/** A product the shop sells. The price is integer fen, set on the server only. */
export interface Product {
  sku: string;
  name: string;
  description: string;
  price: number;
}

export interface Catalogue {
  list(): readonly Product[];
  find(sku: string): Product | undefined;
}

const SKU = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Validates catalogue JSON (`[{ sku, name, description?, price }]`) and returns every problem at
 * once, so a shop fixes its file in one go.
 *
 * @example
 * parseCatalogue([{ sku: 'coffee', name: '咖啡', price: 1 }]) // { ok: true, catalogue }
 */
export function parseCatalogue(
  input: unknown,
): { ok: true; catalogue: Catalogue } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  if (!Array.isArray(input) || input.length === 0) {
    return { ok: false, problems: ['the catalogue must be a non-empty JSON array of products'] };
  }
  const products: Product[] = [];
  const seen = new Set<string>();
  input.forEach((raw: unknown, i) => {
    const item = (raw ?? {}) as Record<string, unknown>;
    const where = `product #${i + 1}`;
    if (typeof item.sku !== 'string' || !SKU.test(item.sku)) problems.push(`${where}: sku must match ${SKU}`);
    else if (seen.has(item.sku)) problems.push(`${where}: sku ${item.sku} appears twice`);
    else seen.add(item.sku);
    if (typeof item.name !== 'string' || item.name.trim() === '') problems.push(`${where}: name is required`);
    if (item.description !== undefined && typeof item.description !== 'string') {
      problems.push(`${where}: description must be a string`);
    }
    if (!Number.isSafeInteger(item.price) || (item.price as number) < 1) {
      problems.push(
        `${where}: price must be a whole number of fen, at least 1 (got ${JSON.stringify(item.price)})`,
      );
    }
    products.push({
      sku: String(item.sku),
      name: String(item.name),
      description: typeof item.description === 'string' ? item.description : '',
      price: Number(item.price),
    });
  });
  if (problems.length > 0) return { ok: false, problems };
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const frozen = Object.freeze(products.map((p) => Object.freeze(p)));
  return { ok: true, catalogue: { list: () => frozen, find: (sku) => bySku.get(sku) } };
}

export function loadCatalogueFile(path: string): ReturnType<typeof parseCatalogue> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return { ok: false, problems: [`cannot read catalogue ${path}: ${(err as Error).message}`] };
  }
  return parseCatalogue(json);
}
