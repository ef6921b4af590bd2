import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { EngineError } from '../../../engine/core/errors.ts';
import { blameOf, errorCodes } from '../../../engine/schema/error-codes.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every `new EngineError('CODE', …, 'blame')` in the product's code, from the parsed source. */
function literalPairs(): { where: string; code: string; blame: string }[] {
  const pairs: { where: string; code: string; blame: string }[] = [];
  for (const file of ['engine', 'recorder', 'control-plane', 'cli', 'scripts'].flatMap((dir) => { try { return sourceFiles(join(root, dir)); } catch { return []; } })) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && node.expression.getText(source) === 'EngineError') {
        const [code, , blame] = node.arguments ?? [];
        if (code !== undefined && ts.isStringLiteral(code) && blame !== undefined && ts.isStringLiteral(blame)) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          pairs.push({ where: `${relative(root, file)}:${line + 1}`, code: code.text, blame: blame.text });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return pairs;
}

describe('the blame table', () => {
  const pairs = literalPairs();
  for (const code of errorCodes) {
    it(`${code} is always blamed on ${blameOf[code]}`, () => {
      assert.equal(new EngineError(code, 'x').blame, blameOf[code], 'an error takes its blame from the table');
      const disagreeing = pairs.filter((pair) => pair.code === code && pair.blame !== blameOf[code]);
      assert.deepEqual(disagreeing, [], `every place that raises ${code} blames ${blameOf[code]}`);
    });
  }

  it('docs/verdicts.md lists every code with the same blame', () => {
    const doc = readFileSync(join(root, 'docs/verdicts.md'), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \| (site|script|engine) \|/gm)].map((m) => [m[1], m[2]]));
    for (const code of errorCodes) assert.equal(rows.get(code), blameOf[code], `docs/verdicts.md row for ${code}`);
    assert.equal(rows.size, errorCodes.length, 'no code in the docs that the engine does not have');
  });
});
