// Retention and an upload of the same artifact: the bytes of an artifact retention is pruning may be uploaded again
// between the deletion of its row and the removal of its file (content-addressed: a static page's screenshot has
// the same hash every day). The new row must keep its file.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { createHash } from 'node:crypto';
import { ArtifactFiles } from '../../../control-plane/artifact-files.ts';
import { Retention } from '../../../control-plane/retention.ts';
import type { ControlPlaneStore } from '../../../control-plane/store.ts';
import { SqliteStore } from '../../../control-plane/store-sqlite.ts';
import { FakeClock } from '../../helpers/fake-agent.ts';

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cp-artifact-retention-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const bytes = Buffer.from('the same screenshot, day after day');
const sha256 = createHash('sha256').update(bytes).digest('hex');

/** What PUT /api/v1/artifacts/:sha256 does, in the artifact's lock. */
async function upload(store: ControlPlaneStore, files: ArtifactFiles, createdAt: string): Promise<void> {
  await files.exclusive(sha256, async () => {
    if ((await store.getArtifact(sha256)) !== undefined) return;
    const received = await files.receive(Readable.from([bytes]), 1_000_000);
    const file = await received.commit();
    await store.insertArtifact({ sha256, sizeBytes: received.sizeBytes, contentType: 'image/png', file, createdAt });
  });
}

describe('artifact retention beside uploads', () => {
  it('keeps the file of an artifact uploaded again after retention deleted its old row', async (t) => {
    const dir = await dataDir(t);
    const store = new SqliteStore(dir);
    t.after(() => store.close());
    const files = new ArtifactFiles(dir);
    await upload(store, files, '2025-01-01T00:00:00.000Z');

    // The upload lands exactly between the two halves of pruning: rows deleted, files not yet removed.
    const prune: ControlPlaneStore['prune'] = async (cutoffs) => {
      const pruned = await store.prune(cutoffs);
      assert.deepEqual(pruned.artifactFiles, [files.fileFor(sha256)], 'the old artifact is pruned');
      await upload(store, files, '2025-05-14T09:00:00.000Z');
      return pruned;
    };
    const racing = new Proxy(store, {
      get: (target, key) => {
        if (key === 'prune') return prune;
        const value: unknown = Reflect.get(target, key);
        // The store's methods use private fields: call them on the store itself.
        return typeof value === 'function' ? (value.bind(target) as unknown) : value;
      },
    });
    const clock = new FakeClock();
    const retention = new Retention({ store: racing, files, clock, log: () => undefined, days: { artifacts: 30 } });
    assert.equal((await retention.prune()).artifacts, 1);

    const stored = await store.getArtifact(sha256);
    assert.ok(stored !== undefined, 'the new upload is stored');
    const onDisk = await stat(join(files.root, stored.file)).catch(() => undefined);
    assert.equal(onDisk?.size, bytes.byteLength, 'and its file is still there');
  });

  it('removes the file when nothing uploaded it again', async (t) => {
    const dir = await dataDir(t);
    const store = new SqliteStore(dir);
    t.after(() => store.close());
    const files = new ArtifactFiles(dir);
    await upload(store, files, '2025-01-01T00:00:00.000Z');
    await new Retention({ store, files, clock: new FakeClock(), log: () => undefined, days: { artifacts: 30 } }).prune();
    assert.equal(await store.getArtifact(sha256), undefined);
    assert.equal(await stat(join(files.root, files.fileFor(sha256))).catch(() => undefined), undefined);
  });

  it('runs the work queued on one hash one at a time, in order, and lets other hashes through', async () => {
    const files = new ArtifactFiles(tmpdir());
    const order: string[] = [];
    let releaseFirst = (): void => undefined;
    const first = files.exclusive('a', async () => {
      order.push('a1 start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('a1 end');
    });
    const second = files.exclusive('a', async () => {
      order.push('a2');
      await Promise.resolve();
    });
    await files.exclusive('b', async () => {
      order.push('b');
      await Promise.resolve();
    });
    releaseFirst();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['a1 start', 'b', 'a1 end', 'a2']);
    await assert.rejects(
      files.exclusive('a', () => Promise.reject(new Error('failed upload'))),
      /failed upload/,
    );
    assert.equal(await files.exclusive('a', () => Promise.resolve('next')), 'next', 'a failure releases the hash');
  });
});
