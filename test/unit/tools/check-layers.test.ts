import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLayers, importsOf, layerOf } from '../../tools/check-layers.ts';

describe('layer rules', () => {
  it('read every kind of import from the syntax tree: static, type-only, re-export, import() and import types', () => {
    const sites = importsOf(
      'x.ts',
      [
        "import { a } from './a.ts';",
        "import type { B } from 'playwright-core';",
        "import { type C } from 'sharp';",
        "export * from './d.ts';",
        "const e = await import('./e.ts');",
        "const f = await import(new URL('./f.ts', import.meta.url).href);",
        "let g: import('./g.ts').G;",
        "// import { h } from './h.ts';",
        "const text = \"import { i } from './i.ts'\";",
      ].join('\n'),
    );
    assert.deepEqual(
      sites.map((site) => [site.specifier, site.typeOnly]),
      [
        ['./a.ts', false],
        ['playwright-core', true],
        ['sharp', false],
        ['./d.ts', false],
        ['./e.ts', false],
        [undefined, false],
        ['./g.ts', true],
      ],
      'comments and strings are not imports; `import { type X }` still loads its module; a computed import() is reported as such',
    );
  });

  it('place files in their layers, the engine entry apart from the engine inside', () => {
    assert.equal(layerOf(new URL('../../../engine/core/conditions.ts', import.meta.url).pathname), 'engine/core');
    assert.equal(layerOf(new URL('../../../engine/index.ts', import.meta.url).pathname), 'engine/index.ts');
    assert.equal(layerOf(new URL('../../../cli/main.ts', import.meta.url).pathname), 'cli');
  });

  it('hold for the code as it is', () => {
    assert.deepEqual(checkLayers(), []);
  });
});
