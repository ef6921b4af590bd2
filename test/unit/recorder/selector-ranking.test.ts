import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGeneratedIdentifier, quoteSelectorString, rankSelectors, type SelectorCandidate } from '../../../recorder/selector-ranking.ts';

describe('isGeneratedIdentifier', () => {
  it('rejects generated-looking ids and classes', () => {
    for (const value of ['css-1x2y3z', 'ember123', 'sc-bdVaJa', 'jss12', ':r1:', 'radix-:r3:', 'mui-42', 'react-select-2-input', 'order-20240101', 'a8f3k2b9', 'btn-3f9a2c7d', '550e8400-e29b-41d4-a716-446655440000', 'x'.repeat(70), '']) {
      assert.equal(isGeneratedIdentifier(value), true, value);
    }
  });
  it('keeps readable ids', () => {
    for (const value of ['username', 'password', 'popup-link', 'priority-high', 'frame-input', 'summary-department', 'search', 'col-12', 'h1', 'firstName', 'getURL', 'inner']) {
      assert.equal(isGeneratedIdentifier(value), false, value);
    }
  });
});

describe('rankSelectors', () => {
  const c = (kind: SelectorCandidate['kind'], selector: string, count = 1, basis?: string): SelectorCandidate => ({ kind, selector, count, ...(basis === undefined ? {} : { basis }) });

  it('orders testid > role > placeholder > text > id > name > css and keeps three', () => {
    const ranked = rankSelectors([c('css', 'form > input'), c('id', '#q', 1, 'q'), c('placeholder', '[placeholder="Search"]'), c('role', 'role=searchbox[name="Search" s]'), c('testid', 'testid=search')]);
    assert.deepEqual(ranked, ['testid=search', 'role=searchbox[name="Search" s]', '[placeholder="Search"]']);
  });
  it('drops candidates that are not unique or are built on generated identifiers', () => {
    const ranked = rankSelectors([c('testid', 'testid=row', 5), c('id', '#ember123', 1, 'ember123'), c('text', 'text="Save"'), c('css', 'div > button')]);
    assert.deepEqual(ranked, ['text="Save"', 'div > button']);
  });
  it('falls back to the best non-unique candidate with nth=0 when nothing is unique', () => {
    assert.deepEqual(rankSelectors([c('css', 'tr', 4), c('testid', 'testid=row', 4)]), ['testid=row >> nth=0']);
    assert.deepEqual(rankSelectors([]), []);
  });
  it('removes duplicates', () => {
    assert.deepEqual(rankSelectors([c('id', '#a', 1, 'a'), c('css', '#a')]), ['#a']);
  });
  it('quotes selector strings', () => {
    assert.equal(quoteSelectorString('say "hi" \\ now'), '"say \\"hi\\" \\\\ now"');
  });
});
