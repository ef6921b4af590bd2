import { readFileSync } from 'node:fs';

/** The package version, reported by `--version` and (later) to the control plane. */
export const version: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
