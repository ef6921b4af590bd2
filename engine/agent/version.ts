import { readFileSync } from 'node:fs';

/** The package version the agent reports in hello and in results (same source as `checkpoint --version`). */
export const version: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
