import type { Artifact } from '../schema/result.ts';

/** Where the runner puts captured files. Implementations live in report/ (a directory, the outbox, memory). */
export interface ArtifactSink {
  write(input: { kind: Artifact['kind']; name: string; bytes: Uint8Array; contentType: string; step?: number }): Promise<Artifact>;
}
