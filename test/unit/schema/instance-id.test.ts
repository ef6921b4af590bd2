/**
 * The instance-id rule, once for the agent, the hub and the protocol. These are the ids the three used to
 * disagree on (the agent took 1–128 plain characters, the hub any printable ASCII up to 200, the protocol
 * any string up to 200), now decided the same way everywhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateInstanceId } from '../../../engine/agent/instance-id.ts';
import { agentMessageSchema, instanceIdSchema, isInstanceId } from '../../../engine/schema/protocol.ts';

describe('instance id rule', () => {
  it('accepts plain ids from 1 to 128 characters', () => {
    for (const id of ['a', '7', 'east-1', 'host.example_2', 'A-b.C_d-9', 'x'.repeat(128)]) assert.equal(isInstanceId(id), true, id);
  });

  it('rejects what the hub or the protocol used to let through', () => {
    const rejected = [
      '', // empty
      'x'.repeat(129), // over 128 (the hub and protocol took up to 200)
      'x'.repeat(200),
      '-leading-dash', // must start with a letter or digit
      '.hidden',
      '_under',
      '../escape', // a path
      'a/b',
      'a b', // space
      'a:b', // printable ASCII the hub allowed
      'a@b',
      'a\tb',
      'a\nb', // header injection
      'café', // non-ASCII
    ];
    for (const id of rejected) assert.equal(isInstanceId(id), false, JSON.stringify(id));
  });

  it('says what it expected', () => {
    const parsed = instanceIdSchema.safeParse('a b');
    assert.equal(parsed.success, false);
    assert.match(parsed.error?.issues[0]?.message ?? '', /letter or digit.*128/);
  });

  it('is the rule the hello message applies', () => {
    const hello = { type: 'hello', protocolVersion: 1, version: '0.1.0', capacity: 1, privacyLock: false, startedAt: new Date().toISOString() };
    assert.equal(agentMessageSchema.safeParse({ ...hello, instanceId: 'east-1' }).success, true);
    assert.equal(agentMessageSchema.safeParse({ ...hello, instanceId: 'a/b' }).success, false);
    assert.equal(agentMessageSchema.safeParse({ ...hello, instanceId: 'x'.repeat(129) }).success, false);
  });

  it('generates ids that pass it, whatever the hostname', () => {
    for (const host of ['web-01.example.com', '---', '', 'ünïcode host', 'x'.repeat(300), '.local']) {
      const id = generateInstanceId(host);
      assert.equal(isInstanceId(id), true, `${JSON.stringify(host)} → ${id}`);
    }
  });
});
