import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArtifactSink } from '../collectors/collector.ts';
import type { Artifact } from '../schema/result.ts';

/** Subfolder per artifact kind, so an output directory is easy to browse. */
const folders: Record<Artifact['kind'], string> = {
  screenshot: 'screenshots',
  'filmstrip-frame': 'filmstrip',
  har: '.',
  report: '.',
  lighthouse: 'lighthouse',
  log: '.',
};

/** Writes artifacts into an output directory; paths in the result are relative to it. */
export class ArtifactDirectory implements ArtifactSink {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async write(input: { kind: Artifact['kind']; name: string; bytes: Uint8Array; contentType: string; step?: number }): Promise<Artifact> {
    const relative = join(folders[input.kind], input.name).replace(/\\/g, '/');
    const target = join(this.root, relative);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, input.bytes);
    const artifact: Artifact = { kind: input.kind, path: relative, contentType: input.contentType, sizeBytes: input.bytes.byteLength };
    if (input.step !== undefined) artifact.step = input.step;
    return artifact;
  }
}
