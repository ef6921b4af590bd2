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
import { definitionFromInput, definitionFromRecord } from '../../../control-plane/monitor-definition.ts';
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
});
