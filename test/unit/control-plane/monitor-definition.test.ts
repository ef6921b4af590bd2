/**
 * A monitor definition survives the API's round trip: what a client POSTs is stored, read back (GET), reduced
 * to its definition and PUT back unchanged, and the definition after the PUT is the one before it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { monitorInputSchema } from '../../../control-plane/api-schemas.ts';
import { checkpointsOf, definitionFromInput, definitionFromRecord, patchBaseFor } from '../../../control-plane/monitor-definition.ts';
import { checkpointStatuses, monitorStatus, worstHealth } from '../../../control-plane/monitor-status.ts';
import { SqliteStore } from '../../../control-plane/store-sqlite.ts';

const script = { name: 'Home', steps: [{ name: 'Open', actions: [{ type: 'navigate', url: 'https://shop.example/' }] }] };
const now = '2026-01-01T00:00:00.000Z';

describe('monitor definition', () => {
  let dir = '';
  let store: SqliteStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'monitor-definition-'));
    store = new SqliteStore(dir);
    await store.createCheckpoint('hq', 'a'.repeat(64), now);
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** POST body → stored → GET (JSON) → definition → PUT body (JSON) → definition. */
  async function roundTrip(body: unknown, id: string) {
    const created = definitionFromInput(monitorInputSchema.parse(body), id);
    await store.insertMonitor(created, now);
    const got: unknown = JSON.parse(JSON.stringify(await store.getMonitor(id)));
    const putBody: unknown = JSON.parse(JSON.stringify(definitionFromRecord(got as Parameters<typeof definitionFromRecord>[0])));
    const replaced = definitionFromInput(monitorInputSchema.parse(putBody), id);
    return { created, replaced, putBody };
  }

  it('keeps every field, the optional ones included', async () => {
    const body = {
      name: 'Shop home',
      checkpoint: 'hq',
      intervalSeconds: 300,
      enabled: false,
      script,
      variables: { user: 'ada' },
      capture: { screenshots: 'failure', har: true },
      alertOnWarning: true,
    };
    const { created, replaced, putBody } = await roundTrip(body, 'm-full');
    assert.deepEqual(replaced, created);
    assert.equal(replaced.alertOnWarning, true, 'alertOnWarning survives (the agent-side copy used to drop it)');
    assert.deepEqual(Object.keys(putBody as object).sort(), ['alertOnWarning', 'capture', 'checkpoint', 'enabled', 'id', 'intervalSeconds', 'name', 'script', 'variables']);
  });

  it('adds nothing that was not set', async () => {
    const { created, replaced, putBody } = await roundTrip({ name: 'Bare', checkpoint: 'hq', intervalSeconds: 60, script }, 'm-bare');
    assert.deepEqual(replaced, created);
    assert.equal(replaced.enabled, true);
    assert.deepEqual(Object.keys(putBody as object).sort(), ['checkpoint', 'enabled', 'id', 'intervalSeconds', 'name', 'script']);
  });

  it('leaves the control plane bookkeeping out of what agents and clients get back', async () => {
    const record = await store.getMonitor('m-bare');
    assert.ok(record !== undefined && 'health' in record && 'createdAt' in record);
    const definition = definitionFromRecord(record);
    assert.equal('health' in definition || 'createdAt' in definition || 'updatedAt' in definition, false);
  });

  it('keeps several checkpoints in order and how runs are spread; one in a list is plain `checkpoint`', async () => {
    const several = await roundTrip({ name: 'Both', checkpoints: ['hq', 'dmz'], placement: 'round-robin', intervalSeconds: 60, script }, 'm-both');
    assert.deepEqual(several.replaced, several.created);
    assert.deepEqual([several.created.checkpoint, several.created.checkpoints, several.created.placement], ['hq', ['hq', 'dmz'], 'round-robin']);
    assert.deepEqual(Object.keys(several.putBody as object).sort(), ['checkpoint', 'checkpoints', 'enabled', 'id', 'intervalSeconds', 'name', 'placement', 'script']);
    const one = definitionFromInput(monitorInputSchema.parse({ name: 'One', checkpoints: ['hq'], intervalSeconds: 60, script }), 'm-one');
    assert.deepEqual([one.checkpoint, 'checkpoints' in one], ['hq', false], 'a list of one is the same monitor as `checkpoint: hq`');
    assert.deepEqual(checkpointsOf(one), ['hq']);
  });

  it('refuses no checkpoint, a checkpoint that is not the first of the list, and a checkpoint listed twice, naming the path', () => {
    const problems = (body: object) => {
      const parsed = monitorInputSchema.safeParse({ name: 'X', intervalSeconds: 60, script, ...body });
      return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    assert.deepEqual(problems({}), ['checkpoint: expected `checkpoint` (one checkpoint) or `checkpoints` (several)']);
    assert.deepEqual(problems({ checkpoint: 'dmz', checkpoints: ['hq', 'dmz'] }), ['checkpoint: expected the first of `checkpoints` ("hq") or no `checkpoint`']);
    assert.deepEqual(problems({ checkpoint: 'hq', checkpoints: ['hq', 'dmz'] }), [], 'GET shows both: PUT takes them back');
    assert.deepEqual(problems({ checkpoints: ['hq', 'dmz', 'hq'] }), ['checkpoints.2: "hq" is listed twice']);
    assert.deepEqual(problems({ checkpoints: [] }), ['checkpoints: expected at least one checkpoint']);
    assert.deepEqual(problems({ checkpoints: ['hq', 'dmz'], placement: 'random' }), ['placement: Invalid option: expected one of "all"|"round-robin"']);
  });

  it('lets a merge patch that names one of checkpoint / checkpoints replace the other', () => {
    const base = { name: 'X', checkpoint: 'hq', checkpoints: ['hq', 'dmz'], placement: 'all' };
    assert.deepEqual(patchBaseFor(base, { checkpoints: ['branch', 'hq'] }), { name: 'X', checkpoints: ['hq', 'dmz'], placement: 'all' });
    assert.deepEqual(patchBaseFor(base, { checkpoint: 'branch' }), { name: 'X', checkpoint: 'hq', placement: 'all' });
    assert.deepEqual(patchBaseFor(base, { checkpoint: 'hq', checkpoints: ['hq'] }), base, 'both named: the patch says both');
    assert.deepEqual(patchBaseFor(base, { name: 'Y' }), base);
  });

  it('shows "checkpoint-down" where the checkpoint is down, worst first over its checkpoints', () => {
    const monitor = { enabled: true, checkpoint: 'hq', checkpoints: ['hq', 'dmz', 'branch'], checkpointHealth: { hq: 'failing', dmz: 'ok', branch: 'warning' } as const };
    const up = new Map([
      ['hq', 'up'],
      ['dmz', 'up'],
      ['branch', 'up'],
    ] as const);
    assert.equal(monitorStatus(monitor, up), 'failing');
    const hqDown = new Map([...up, ['hq', 'down']] as const);
    assert.deepEqual(checkpointStatuses(monitor, hqDown), { hq: 'checkpoint-down', dmz: 'ok', branch: 'warning' });
    assert.equal(monitorStatus(monitor, hqDown), 'warning', 'a warning elsewhere says more than a checkpoint down');
    assert.equal(monitorStatus({ ...monitor, checkpointHealth: { hq: 'failing', dmz: 'ok', branch: 'ok' } }, hqDown), 'checkpoint-down');
    assert.equal(monitorStatus({ ...monitor, enabled: false }, up), 'disabled');
    assert.equal(monitorStatus({ enabled: true, checkpoint: 'new', checkpointHealth: {} }, new Map([['new', 'unknown']])), 'ok', 'a checkpoint never seen is not down');
    assert.equal(worstHealth(['ok', 'warning', 'ok']), 'warning');
    assert.equal(worstHealth([]), 'ok');
  });
});
