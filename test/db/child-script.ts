/**
 * Runs a TypeScript test helper in a child process quickly. Under `node --import tsx` every file
 * of kysely goes through the loader hooks, which costs seconds per process on this machine; so
 * the helper is bundled once per test process with esbuild (already here, for tsx and vite),
 * leaving packages external, and children run plain JavaScript.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
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
  const result = await esbuild({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0]?.contents;
  if (!code) throw new Error(`esbuild produced nothing for ${entry}`);
  // Named by content: runs and parallel workers share one file, and only a changed source adds one.
  const tag = createHash('sha256').update(code).digest('hex').slice(0, 16);
  // Inside node_modules, so the external imports resolve against the project's packages.
  const outfile = join(CACHE_DIR, `${basename(entry, '.ts')}-${tag}.mjs`);
  if (!existsSync(outfile)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${outfile}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, outfile); // atomic: a parallel worker never runs half a file
  }
  return outfile;
}
