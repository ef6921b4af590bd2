import type { ArtifactSink } from '../../engine/collectors/collector.ts';
import type { Artifact } from '../../engine/schema/result.ts';

/** Keeps artifacts in memory, so a test can look at their bytes. */
export class MemorySink implements ArtifactSink {
  readonly files = new Map<string, Uint8Array>();

  write(input: { kind: Artifact['kind']; name: string; bytes: Uint8Array; contentType: string; step?: number }): Promise<Artifact> {
    this.files.set(input.name, input.bytes);
    const artifact: Artifact = { kind: input.kind, path: input.name, contentType: input.contentType, sizeBytes: input.bytes.byteLength };
    if (input.step !== undefined) artifact.step = input.step;
    return Promise.resolve(artifact);
  }
}
