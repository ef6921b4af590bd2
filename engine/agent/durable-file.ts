import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Suffix of files being written; anything left with it after a crash is garbage. */
export const tempSuffix = '.tmp';

/** fsync a directory so a rename in it survives a power loss (no-op where directories cannot be opened). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open a directory for fsync; NTFS journals the rename itself.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Write `bytes` to `dir/name` so that after a crash the file is either absent or complete: write a temp
 * file, fsync it, rename it into place, fsync the directory.
 */
export async function writeFileDurably(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dir, `${name}.${randomBytes(6).toString('hex')}${tempSuffix}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, join(dir, name));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}
