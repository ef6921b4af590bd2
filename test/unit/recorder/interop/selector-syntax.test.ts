import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPlaywrightSelector } from '../../../../engine/core/selector-syntax.ts';
import { parseAnyRole, selectorStringSchema, splitChain } from '../../../../engine/schema/selector.ts';

describe('role=* (accessible name over every role)', () => {
  it('parses the name and the case-sensitivity flag, and nothing else', () => {
    assert.deepEqual(parseAnyRole('role=*[name="Sign in" s]'), { name: 'Sign in', caseSensitive: true });
    assert.deepEqual(parseAnyRole('role=*[name="Say \\"hi\\""]'), { name: 'Say "hi"', caseSensitive: false });
    assert.equal(parseAnyRole('role=button[name="Sign in"]'), undefined);
    assert.equal(parseAnyRole('role=*[checked]'), undefined);
  });

  it('is rejected by the schema when it carries anything but a name', () => {
    assert.equal(selectorStringSchema.safeParse('role=*[name="Go" s]').success, true);
    assert.equal(selectorStringSchema.safeParse('nav >> role=*[name="Go"]').success, true);
    const bad = selectorStringSchema.safeParse('role=*[level=2]');
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /role=\*\[name="Accessible name"\]/);
  });

  it('becomes a union of role queries plus label, alt and placeholder, scoped when it follows another part', () => {
    const alone = toPlaywrightSelector('role=*[name="Orders" s]');
    assert.ok(alone.startsWith('role=link[name="Orders" s] >> internal:or="role=button[name=\\"Orders\\" s]"'), alone);
    assert.ok(alone.includes('internal:or="internal:label=\\"Orders\\"s"'), alone);
    const loose = toPlaywrightSelector('role=*[name="a.b"]');
    assert.ok(loose.includes('internal:label=/^a\\\\.b$/i'), loose);
    const chained = toPlaywrightSelector('nav >> role=*[name="Orders" s]');
    assert.ok(chained.startsWith('nav >> internal:chain="role=link'), chained);
  });

  it('splits chains on >> except inside quotes', () => {
    assert.deepEqual(splitChain('nav >> role=*[name="a >> b" s] >> text="x"'), ['nav', 'role=*[name="a >> b" s]', 'text="x"']);
    assert.deepEqual(splitChain('#a>>#b'), ['#a', '#b']);
  });
});
