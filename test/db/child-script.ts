/**
 * Runs a TypeScript test helper in a child process quickly. Under `node --import tsx` every file
 * of kysely goes through the loader hooks, which costs seconds per process on this machine; so
 * the helper is bundled once per test process with esbuild (already here, for tsx and vite),
 * leaving packages external, and children run plain JavaScript.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/weapp-pay-test/', import.meta.url));
const bundles = new Map<string, Promise<string>>();

/** The path of a runnable .mjs built from `entry` (an absolute .ts path). */
export function childScript(entry: string): Promise<string> {
  let bundle = bundles.get(entry);
  if (!bundle) {
    bundle = build(entry);
    bundles.set(entry, bundle);
  }
  return bundle;
}

async function build(entry: string): Promise<string> {
  const { build: esbuild } = await import('esbuild');
  mkdirSync(CACHE_DIR, { recursive: true });
  const tag = createHash('sha256').update(`${entry}:${process.pid}:${Date.now()}`).digest('hex').slice(0, 12);
  // Inside node_modules, so the external imports resolve against the project's packages.
  const outfile = join(CACHE_DIR, `${basename(entry, '.ts')}-${tag}.mjs`);
  await esbuild({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return outfile;
}
