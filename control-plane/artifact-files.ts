import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

  constructor(dataDir: string) {
    this.root = join(dataDir, 'artifacts');
  }

  /** Relative file name of an artifact. */
  fileFor(sha256: string): string {
    return `${sha256.slice(0, 2)}/${sha256}`;
  }

  /**
   * Stream a body to a temporary file while hashing it. Returns its hash and size and a `commit` that moves it
   * into place (when the hash is what the uploader claimed) or `discard` (when it is not).
   */
  async receive(body: Readable, maxBytes: number): Promise<{ sha256: string; sizeBytes: number; commit: () => Promise<string>; discard: () => Promise<void> }> {
    const temporary = join(this.root, 'tmp', `${randomUUID()}.part`);
    await mkdir(dirname(temporary), { recursive: true });
    const handle = await open(temporary, 'wx');
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
        await mkdir(dirname(target), { recursive: true });
        await rename(temporary, target);
        return file;
      },
      discard: () => rm(temporary, { force: true }),
    };
  }

  open(file: string): ReadStream {
    return createReadStream(join(this.root, file));
  }

  /** Temporary files left by a crash mid-upload. */
  async clearTemporary(): Promise<void> {
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
  }
}
