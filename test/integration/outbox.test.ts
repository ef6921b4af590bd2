import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { EngineError } from '../../engine/core/errors.ts';
import { Outbox, type EnvelopeCore } from '../../engine/agent/outbox.ts';
import { resultEnvelopeSchema } from '../../engine/schema/protocol.ts';
import { resultSchemaVersion } from '../../engine/schema/result.ts';

const dirs: string[] = [];
const opened: Outbox[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'checkpoint-outbox-'));
  dirs.push(dir);
  return dir;
}

async function open(dir: string, capBytes?: number): Promise<Outbox> {
  const outbox = await Outbox.open({ dataDir: dir, ...(capBytes === undefined ? {} : { capBytes }) });
  opened.push(outbox);
  return outbox;
}

afterEach(async () => {
  for (const outbox of opened.splice(0)) outbox.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function envelope(runId: string, monitorId = 'mon-1'): EnvelopeCore {
  return {
    runId,
    monitorId,
    attempt: 1,
    instanceId: 'test-instance',
    finishedAt: new Date().toISOString(),
    result: {
      schemaVersion: resultSchemaVersion,
      runId,
      script: 'Outbox test',
      status: 'passed',
      startedAt: new Date().toISOString(),
      durationMs: 12,
      steps: [{ name: 'One', status: 'passed', durationMs: 12, actions: [] }],
      artifacts: [],
    },
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Files in the artifacts directory. */
async function files(outbox: Outbox): Promise<string[]> {
  return (await readdir(outbox.artifactsDir)).sort();
}

describe('durable outbox (real SQLite in a temp directory)', () => {
  it('commits a run with its artifacts, hands rows out oldest first, and deletes row and files only on ack', async () => {
    const outbox = await open(await dataDir());
    const pngish = randomBytes(2000);
    const har = Buffer.from('{"log":{}}');
    const staging = outbox.stage();
    const shot = await staging.write({ kind: 'screenshot', name: 'step-01.png', bytes: pngish, contentType: 'image/png', step: 0 });
    await staging.write({ kind: 'har', name: 'run.har', bytes: har, contentType: 'application/json' });
    assert.equal(shot.path, 'screenshots/step-01.png');
    assert.deepEqual(await outbox.commit(envelope('run-1'), staging), { committed: true, artifactsDropped: 0 });
    await outbox.commit(envelope('run-2'));

    const first = outbox.next();
    assert.equal(first?.runId, 'run-1');
    assert.equal(first.envelope.artifacts.length, 2);
    assert.equal(resultEnvelopeSchema.safeParse(first.envelope).success, true, 'the stored envelope is a valid protocol envelope');
    assert.deepEqual(await files(outbox), [sha256(har), sha256(pngish)].sort());
    assert.deepEqual(await readFile(outbox.artifactPath(sha256(pngish))), pngish);

    assert.equal(outbox.next(new Set(['run-1']))?.runId, 'run-2');
    assert.equal(outbox.stats().depth, 2);
    await outbox.ack('run-1');
    assert.equal(outbox.has('run-1'), false);
    assert.deepEqual(await files(outbox), [], 'the acked run`s files are gone');
    assert.equal(outbox.next()?.runId, 'run-2');
    await outbox.ack('run-2');
    assert.equal(outbox.next(), undefined);
    assert.equal(outbox.stats().depth, 0);
  });

  it('keeps its files private to the agent user: directories 0700, database and artifacts 0600', { skip: process.platform === 'win32' && 'POSIX modes' }, async () => {
    const dir = await dataDir();
    const outbox = await open(dir);
    const staging = outbox.stage();
    await staging.write({ kind: 'screenshot', name: 'step-01.png', bytes: randomBytes(500), contentType: 'image/png', step: 0 });
    await outbox.commit(envelope('run-private'), staging);
    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    assert.equal(await mode(dir), 0o700);
    assert.equal(await mode(join(dir, 'artifacts')), 0o700);
    assert.equal(await mode(join(dir, 'outbox.db')), 0o600);
    const artifacts = await readdir(join(dir, 'artifacts'));
    assert.ok(artifacts.length >= 1);
    for (const name of artifacts) assert.equal(await mode(join(dir, 'artifacts', name)), 0o600, name);
  });

  it('treats a second commit of the same run id as a no-op', async () => {
    const outbox = await open(await dataDir());
    await outbox.commit(envelope('run-1'));
    const again = outbox.stage();
    await again.write({ kind: 'log', name: 'x.log', bytes: Buffer.from('second'), contentType: 'text/plain' });
    assert.deepEqual(await outbox.commit(envelope('run-1'), again), { committed: false, artifactsDropped: 0 });
    assert.equal(outbox.stats().depth, 1);
    assert.deepEqual(outbox.get('run-1')?.artifacts, []);
    assert.deepEqual(await files(outbox), [], 'the duplicate`s staged file was removed');
  });

  it('keeps a shared artifact file until the last run that refers to it is acked', async () => {
    const outbox = await open(await dataDir());
    const bytes = Buffer.from('same bytes in two runs');
    for (const runId of ['a', 'b']) {
      const staging = outbox.stage();
      await staging.write({ kind: 'log', name: 'same.log', bytes, contentType: 'text/plain' });
      await outbox.commit(envelope(runId), staging);
    }
    await outbox.ack('a');
    assert.deepEqual(await files(outbox), [sha256(bytes)]);
    await outbox.ack('b');
    assert.deepEqual(await files(outbox), []);
  });

  it('writes artifact files before the row exists; files of a run that never committed are swept at the next open', async () => {
    const dir = await dataDir();
    const outbox = await open(dir);
    const staging = outbox.stage();
    const bytes = randomBytes(512);
    await staging.write({ kind: 'log', name: 'orphan.log', bytes, contentType: 'text/plain' });
    assert.deepEqual(await files(outbox), [sha256(bytes)], 'the file is on disk before any commit');
    assert.equal(outbox.stats().depth, 0);
    // Simulate a crash: close without committing, and leave a half-written temp file behind too.
    outbox.close();
    await writeFile(join(outbox.artifactsDir, `${'f'.repeat(64)}.123456.tmp`), 'partial');
    const reopened = await open(dir);
    assert.deepEqual(await files(reopened), [], 'unreferenced and temp files are swept');
  });

  it('keeps every committed row and its files after the process holding them is killed with SIGKILL', async () => {
    const dir = await dataDir();
    const outboxUrl = pathToFileURL(join(import.meta.dirname, '../../engine/agent/outbox.ts')).href;
    const program = `
      import { Outbox } from ${JSON.stringify(outboxUrl)};
      import { randomBytes } from 'node:crypto';
      const outbox = await Outbox.open({ dataDir: ${JSON.stringify(dir)} });
      for (let i = 0; ; i++) {
        const runId = 'run-' + i;
        const staging = outbox.stage();
        await staging.write({ kind: 'log', name: 'a.log', bytes: randomBytes(20000), contentType: 'text/plain' });
        await staging.write({ kind: 'har', name: 'b.har', bytes: randomBytes(5000), contentType: 'application/json' });
        await outbox.commit({ runId, monitorId: 'm', attempt: 1, instanceId: 'child', finishedAt: new Date().toISOString(),
          result: { schemaVersion: 1, runId, script: 's', status: 'passed', startedAt: new Date().toISOString(), durationMs: 1, steps: [], artifacts: [] } }, staging);
        process.stdout.write('committed ' + runId + '\\n');
      }
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed: string[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('committed ')) committed.push(line.slice('committed '.length));
        if (committed.length >= 8) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`the child exited before committing 8 rows: ${stderr}`)));
    });
    assert.equal(await exited, 'SIGKILL');

    const reopened = await open(dir);
    const rows = reopened.list();
    const ids = new Set(rows.map((row) => row.runId));
    for (const runId of committed) assert.ok(ids.has(runId), `${runId} was reported committed and must survive`);
    for (const row of rows) {
      assert.equal(row.artifacts.length, 2, `${row.runId} kept both artifacts`);
      for (const ref of row.artifacts) {
        const bytes = await readFile(reopened.artifactPath(ref.sha256));
        assert.equal(sha256(bytes), ref.sha256, `${row.runId}: ${ref.path} is complete on disk`);
      }
    }
    const referenced = new Set(rows.flatMap((row) => row.artifacts.map((a) => a.sha256)));
    assert.deepEqual((await files(reopened)).filter((name) => !referenced.has(name)), [], 'no orphan or temp file survives the sweep');
    reopened.close();
    const db = new DatabaseSync(join(dir, 'outbox.db'));
    try {
      assert.equal(db.prepare('PRAGMA integrity_check').get()?.['integrity_check'], 'ok');
    } finally {
      db.close();
    }
  });

  it('past its cap drops artifacts of the oldest rows before any result, and counts the drops in the envelope and the stats', async () => {
    const outbox = await open(await dataDir(), 60_000);
    for (const runId of ['r1', 'r2', 'r3']) {
      const staging = outbox.stage();
      await staging.write({ kind: 'log', name: 'big.log', bytes: randomBytes(20_000), contentType: 'text/plain' });
      await staging.write({ kind: 'log', name: 'small.log', bytes: randomBytes(2_000), contentType: 'text/plain' });
      const { artifactsDropped } = await outbox.commit(envelope(runId), staging);
      assert.equal(artifactsDropped, runId === 'r3' ? 2 : 0);
    }
    const [r1, r2, r3] = outbox.list();
    assert.equal(r1?.runId, 'r1');
    assert.deepEqual(r1.artifacts, [], 'the oldest run lost its artifacts');
    assert.equal(r1.envelope.artifactsDropped, 2);
    assert.equal(r2?.artifacts.length, 2);
    assert.equal(r2.envelope.artifactsDropped, undefined);
    assert.equal(r3?.artifacts.length, 2);
    const stats = outbox.stats();
    assert.equal(stats.depth, 3, 'every result is kept');
    assert.equal(stats.artifactsDroppedTotal, 2);
    assert.ok(stats.bytes <= 60_000);
    assert.equal(stats.full, false);
    assert.equal((await files(outbox)).length, 4, 'the dropped files are deleted');
  });

  it('never drops a result: when results alone exceed the cap, it keeps them and reports itself full', async () => {
    const outbox = await open(await dataDir(), 1_000);
    for (let i = 0; i < 5; i++) await outbox.commit(envelope(`run-${i}`));
    assert.equal(outbox.stats().depth, 5);
    assert.equal(outbox.stats().full, true);
  });

  it('keeps a poisoned row, skips it, and makes it deliverable again when requeued', async () => {
    const outbox = await open(await dataDir());
    await outbox.commit(envelope('bad'));
    await outbox.commit(envelope('good'));
    outbox.poison('bad', 'HTTP 400: invalid envelope');
    assert.equal(outbox.next()?.runId, 'good');
    assert.equal(outbox.get('bad')?.poisoned, 'HTTP 400: invalid envelope');
    assert.equal(outbox.stats().poisoned, 1);
    assert.equal(outbox.stats().depth, 2);
    assert.equal(outbox.requeuePoisoned(), 1);
    assert.equal(outbox.next()?.runId, 'bad');
    outbox.recordFailure('bad', 'ECONNREFUSED');
    assert.equal(outbox.get('bad')?.attempts, 2);
    assert.equal(outbox.get('bad')?.lastError, 'ECONNREFUSED');
  });

  it('drops an artifact whose file went missing from the envelope, and counts it', async () => {
    const outbox = await open(await dataDir());
    const staging = outbox.stage();
    await staging.write({ kind: 'log', name: 'gone.log', bytes: Buffer.from('x'), contentType: 'text/plain' });
    await outbox.commit(envelope('run-1'), staging);
    await outbox.dropArtifact('run-1', 'gone.log');
    assert.deepEqual(outbox.get('run-1')?.envelope.artifacts, []);
    assert.equal(outbox.get('run-1')?.envelope.artifactsDropped, 1);
    assert.equal(outbox.stats().artifactsDroppedTotal, 1);
  });

  it('refuses image artifacts, by type or by signature, when staged under the privacy lock', async () => {
    const outbox = await open(await dataDir());
    const staging = outbox.stage({ refuseImages: true });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    await assert.rejects(staging.write({ kind: 'screenshot', name: 's.png', bytes: png, contentType: 'image/png' }), EngineError);
    await assert.rejects(staging.write({ kind: 'log', name: 'disguised.log', bytes: png, contentType: 'text/plain' }), /privacy lock/);
    await staging.write({ kind: 'log', name: 'fine.log', bytes: Buffer.from('text'), contentType: 'text/plain' });
    assert.equal((await files(outbox)).length, 1);
  });

  it('refuses a second outbox on the same data directory with a clear message', async () => {
    const dir = await dataDir();
    await open(dir);
    await assert.rejects(Outbox.open({ dataDir: dir }), (error: unknown) => error instanceof EngineError && /in use by another checkpoint agent/.test(error.message));
    assert.ok(existsSync(join(dir, 'outbox.db')));
  });
});
