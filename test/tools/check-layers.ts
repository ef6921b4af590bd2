// Executable layer rules (ARCHITECTURE.md): each folder may import only from the folders listed for it.
// Run by `npm run lint`; exits 1 and names each offending import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Layer → the layers it may import (itself always allowed). Order: schema ← core ← browser ← collectors ← runner ← report/agent ← cli. */
export const allowedImports: Record<string, readonly string[]> = {
  'engine/schema': [],
  'engine/core': ['engine/schema'],
  'engine/in-page': [],
  'engine/browser': ['engine/schema', 'engine/core'],
  'engine/collectors': ['engine/schema', 'engine/core', 'engine/browser', 'engine/in-page'],
  'engine/runner': ['engine/schema', 'engine/core', 'engine/browser', 'engine/collectors', 'engine/in-page'],
  'engine/report': ['engine/schema', 'engine/core', 'engine/collectors', 'engine/runner'],
  'engine/agent': ['engine/schema', 'engine/core', 'engine/browser', 'engine/collectors', 'engine/runner', 'engine/report'],
  'engine/cli': ['engine/schema', 'engine/core', 'engine/browser', 'engine/collectors', 'engine/runner', 'engine/report', 'engine/agent', 'scripts/demo-site', 'recorder', 'control-plane', 'test/bench'],
  'scripts/demo-site': [],
  'test/bench': ['engine/schema', 'engine/core', 'engine/browser', 'engine/runner', 'engine/report', 'scripts/demo-site', 'test/fixtures'],
  recorder: ['engine/schema', 'engine/core', 'engine/browser'],
  'control-plane': ['engine/schema', 'engine/core', 'engine/report'],
};

/** Packages a layer must not import at all (pure core: no browser, fs or network). */
const forbiddenPackages: Record<string, RegExp> = {
  'engine/schema': /^(node:(fs|net|http|https|child_process)|playwright-core|puppeteer-core|ws)(\/|$)/,
  'engine/core': /^(node:(fs|fs\/promises|net|http|https|child_process|dgram|tls)|playwright-core|puppeteer-core|ws|sharp)(\/|$)/,
  'engine/in-page': /^(?!\.)/,
};

function layerOf(file: string): string | undefined {
  const rel = relative(root, file).split(sep).join('/');
  return Object.keys(allowedImports)
    .sort((a, b) => b.length - a.length)
    .find((layer) => rel === layer || rel.startsWith(`${layer}/`));
}

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

const importPattern = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const dynamicImportPattern = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function checkLayers(): string[] {
  const violations: string[] = [];
  for (const top of ['engine', 'recorder', 'control-plane', 'scripts', 'test/bench']) {
    let exists: boolean;
    try {
      exists = statSync(join(root, top)).isDirectory();
    } catch {
      exists = false;
    }
    if (!exists) continue;
    for (const file of sourceFiles(join(root, top))) {
      const layer = layerOf(file);
      if (layer === undefined) continue;
      const text = readFileSync(file, 'utf8');
      const specifiers = [...text.matchAll(importPattern), ...text.matchAll(dynamicImportPattern)].map((m) => m[1] ?? '');
      for (const specifier of specifiers) {
        const where = relative(root, file);
        if (specifier.startsWith('.')) {
          const target = layerOf(resolve(dirname(file), specifier));
          if (target !== undefined && target !== layer && !(allowedImports[layer] ?? []).includes(target)) {
            violations.push(`${where}: imports ${specifier} (layer ${target}), but ${layer} may only import ${(allowedImports[layer] ?? []).join(', ') || 'itself'}`);
          }
        } else if (forbiddenPackages[layer]?.test(specifier) === true && !/^import\s+type/.test(specifier)) {
          violations.push(`${where}: imports ${specifier}, which ${layer} must not use`);
        }
      }
    }
  }
  return violations;
}

if (import.meta.main) {
  const violations = checkLayers();
  if (violations.length > 0) {
    process.stderr.write(`Layer rule violations (see test/tools/check-layers.ts):\n${violations.map((v) => `  ${v}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write('layers: ok\n');
}
