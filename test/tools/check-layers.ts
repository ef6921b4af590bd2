// Executable layer rules (ARCHITECTURE.md, README "Architecture"): each folder may import only from the folders
// listed for it. Imports are read from the parsed code (the TypeScript API), static, re-exports and dynamic
// ones alike. Run by `npm run lint`; exits 1 and names each offending import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const engineInside = ['engine/schema', 'engine/core', 'engine/checks', 'engine/in-page', 'engine/browser', 'engine/collectors', 'engine/runner', 'engine/report', 'engine/agent'];

/**
 * Layer → the layers it may import (itself always allowed). Inside the engine: schema ← core ← browser ←
 * collectors ← runner ← report ← agent. Outside it, only the engine's public entry (`engine/index.ts`); only
 * the CLI sees the recorder, the control plane and the demo site.
 */
export const allowedImports: Record<string, readonly string[]> = {
  'engine/schema': [],
  'engine/core': ['engine/schema'],
  // Non-browser checks (API, TCP, DNS, databases, mail...): clients of their own, no browser.
  'engine/checks': ['engine/schema', 'engine/core'],
  'engine/in-page': [],
  'engine/browser': ['engine/schema', 'engine/core'],
  'engine/collectors': ['engine/schema', 'engine/core', 'engine/browser', 'engine/in-page'],
  'engine/runner': ['engine/schema', 'engine/core', 'engine/checks', 'engine/browser', 'engine/collectors', 'engine/in-page'],
  'engine/report': ['engine/schema', 'engine/core', 'engine/checks', 'engine/collectors', 'engine/runner'],
  'engine/agent': ['engine/schema', 'engine/core', 'engine/checks', 'engine/browser', 'engine/collectors', 'engine/runner', 'engine/report'],
  'engine/index.ts': engineInside,
  recorder: ['engine/index.ts'],
  'control-plane': ['engine/index.ts'],
  'scripts/demo-site': [],
  cli: ['engine/index.ts', 'recorder', 'control-plane', 'scripts/demo-site', 'test/bench'],
  // The benchmark is a development tool run from a checkout: it measures engine internals directly.
  'test/bench': [...engineInside, 'engine/index.ts', 'scripts/demo-site', 'test/fixtures'],
};

/** Packages a layer must not import at all, except for types (pure core: no browser, fs or network). */
const forbiddenPackages: Record<string, RegExp> = {
  'engine/schema': /^((node:)?(fs|net|http|https|child_process)|playwright-core|puppeteer-core|ws)(\/|$)/,
  'engine/core': /^((node:)?(fs|fs\/promises|net|http|https|child_process|dgram|tls)|playwright-core|puppeteer-core|ws|sharp)(\/|$)/,
  'engine/in-page': /^(?!\.)/,
};

export function layerOf(file: string): string | undefined {
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

export interface ImportSite {
  specifier: string | undefined;
  typeOnly: boolean;
  line: number;
}

/** Every import of a file from its syntax tree: import/export declarations and `import(…)` calls. */
export function importsOf(fileName: string, text: string): ImportSite[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const sites: ImportSite[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      // Only `import type …` is erased whole: with verbatimModuleSyntax, `import { type X } from 'm'` still loads m.
      sites.push({ specifier: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly === true, line: lineOf(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      sites.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly, line: lineOf(node) });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      // A computed specifier hides the edge from this check: only string literals are allowed.
      sites.push({ specifier: argument !== undefined && ts.isStringLiteralLike(argument) ? argument.text : undefined, typeOnly: false, line: lineOf(node) });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      sites.push({ specifier: node.argument.literal.text, typeOnly: true, line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sites;
}

export function checkLayers(): string[] {
  const violations: string[] = [];
  for (const top of ['engine', 'recorder', 'control-plane', 'cli', 'scripts', 'test/bench']) {
    let exists: boolean;
    try {
      exists = statSync(join(root, top)).isDirectory();
    } catch {
      exists = false;
    }
    if (!exists) continue;
    for (const file of sourceFiles(join(root, top))) {
      const layer = layerOf(file);
      if (layer === undefined) {
        if (relative(root, file).split(sep)[0] === 'engine') violations.push(`${relative(root, file)}: a file of the engine in no layer of the rules`);
        continue;
      }
      const allowed = allowedImports[layer] ?? [];
      for (const site of importsOf(file, readFileSync(file, 'utf8'))) {
        const where = `${relative(root, file)}:${site.line}`;
        if (site.specifier === undefined) {
          violations.push(`${where}: import() of a computed specifier; use a static import so the layer rules can see it`);
          continue;
        }
        if (site.specifier.startsWith('.')) {
          const targetPath = resolve(dirname(file), site.specifier);
          const target = layerOf(targetPath);
          const topOf = (path: string) => relative(root, path).split(sep)[0];
          if (target === undefined && (topOf(targetPath) !== topOf(file) || topOf(file) === 'engine')) {
            // A folder no layer names (a new engine/util, test helpers from product code) is a hole in the rules.
            violations.push(`${where}: imports ${site.specifier}, which is in no layer of the rules`);
          } else if (target !== undefined && target !== layer && !allowed.includes(target)) {
            violations.push(`${where}: imports ${site.specifier} (layer ${target}), but ${layer} may only import ${allowed.join(', ') || 'itself'}`);
          }
        } else if (!site.typeOnly && forbiddenPackages[layer]?.test(site.specifier) === true) {
          violations.push(`${where}: imports ${site.specifier}, which ${layer} must not use`);
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
