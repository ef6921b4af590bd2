import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

export const sha256Pattern = /^[0-9a-f]{64}$/;

export class ArtifactTooLargeError extends Error {
  constructor(limit: number) {
    super(`artifact is larger than ${limit} bytes`);
    this.name = 'ArtifactTooLargeError';
  }
}

/**
 * Content-addressed artifact files under `<dataDir>/artifacts/ab/abcdef…`. A file is written to a temporary
 * name, fsynced and renamed into place, so a crash never leaves a half-written file under a valid hash.
 */
export class ArtifactFiles {
  readonly root: string;
  /** Hash → the tail of the work queued on it (see `exclusive`). */
  readonly #locks = new Map<string, Promise<void>>();

  constructor(dataDir: string) {
    this.root = join(dataDir, 'artifacts');
  }

  /**
   * Run `work` alone for one artifact: an upload (check the row, write the file, insert the row) and retention's
   * removal of that artifact's file (check the row again, remove) never interleave. Without it, an upload of bytes
   * whose old row retention had just deleted could put its file in place just before retention removed "the old"
   * one, leaving a stored artifact without its file. In this process only: replicas sharing a directory can
   * still meet that narrow window (docs/security.md, retention).
   */
  async exclusive<T>(sha256: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(sha256) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.#locks.set(sha256, tail);
    await before;
    try {
      return await work();
    } finally {
      release();
      if (this.#locks.get(sha256) === tail) this.#locks.delete(sha256);
    }
  }

  /** The hash an artifact's file name (`fileFor`) stands for. */
  hashOf(file: string): string {
    return basename(file);
  }

  /** Relative file name of an artifact. */
  fileFor(sha256: string): string {
    return `${sha256.slice(0, 2)}/${sha256}`;
  }

  /**
   * Stream a body to a temporary file while hashing it. Returns its hash and size and a `commit` that moves it
   * into place (when the hash is what the uploader claimed) or `discard` (when it is not).
   */
  async receive(body: Readable, maxBytes: number, declaredBytes?: number): Promise<{ sha256: string; sizeBytes: number; commit: () => Promise<string>; discard: () => Promise<void> }> {
    // A body announced as too large is refused before a byte of it is written.
    if (declaredBytes !== undefined && declaredBytes > maxBytes) throw new ArtifactTooLargeError(maxBytes);
    const temporary = join(this.root, 'tmp', `${randomUUID()}.part`);
    await this.#directory(dirname(temporary));
    const handle = await open(temporary, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        size += bytes.byteLength;
        if (size > maxBytes) throw new ArtifactTooLargeError(maxBytes);
        hash.update(bytes);
        await handle.write(bytes);
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(temporary, { force: true });
      throw error;
    }
    await handle.close();
    const sha256 = hash.digest('hex');
    return {
      sha256,
      sizeBytes: size,
      commit: async () => {
        const file = this.fileFor(sha256);
        const target = join(this.root, file);
        await this.#directory(dirname(target));
        await rename(temporary, target);
        return file;
      },
      discard: () => rm(temporary, { force: true }),
    };
  }

  /** Directories of artifacts are the owner's alone, like the files in them (0700 / 0600). */
  async #directory(path: string): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await chmod(this.root, 0o700);
    await mkdir(path, { recursive: true, mode: 0o700 });
  }

  /** Remove an artifact's file (retention); a file already gone is fine. */
  async remove(file: string): Promise<void> {
    await rm(join(this.root, file), { force: true });
  }

  open(file: string): ReadStream {
    return createReadStream(join(this.root, file));
  }

  /** Temporary files left by a crash mid-upload. */
  async clearTemporary(): Promise<void> {
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
  }
}
