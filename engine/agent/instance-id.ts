import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { isInstanceId } from '../schema/protocol.ts';

/** `<hostname>-<6 hex>`, with the hostname reduced to the allowed characters. */
export function generateInstanceId(host = hostname()): string {
  const base = host.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100) || 'checkpoint';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

async function readOrCreateId(file: string): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (isInstanceId(text)) return text;
  } catch {
    // Not there yet.
  }
  const id = generateInstanceId();
  await writeFile(file, `${id}\n`);
  return id;
}

/**
 * Where an agent keeps its outbox, and under which id it connects. The id is stable across restarts so
 * that results left in the outbox are sent by "the same" instance after a restart:
 * - `--instance-id` given: data dir defaults to `./.checkpoint/agent-<id>`;
 * - only `--data-dir` given: the id is read from (or generated into) `<dataDir>/instance-id`;
 * - neither: the id is read from (or generated into) `./.checkpoint/instance-id`.
 */
export async function resolveIdentity(input: { instanceId?: string | undefined; dataDir?: string | undefined; cwd?: string }): Promise<{ instanceId: string; dataDir: string }> {
  const cwd = input.cwd ?? process.cwd();
  if (input.instanceId !== undefined) {
    return { instanceId: input.instanceId, dataDir: resolve(cwd, input.dataDir ?? join('.checkpoint', `agent-${input.instanceId}`)) };
  }
  if (input.dataDir !== undefined) {
    const dataDir = resolve(cwd, input.dataDir);
    await mkdir(dataDir, { recursive: true });
    return { instanceId: await readOrCreateId(join(dataDir, 'instance-id')), dataDir };
  }
  const root = resolve(cwd, '.checkpoint');
  await mkdir(root, { recursive: true });
  const instanceId = await readOrCreateId(join(root, 'instance-id'));
  return { instanceId, dataDir: join(root, `agent-${instanceId}`) };
}
