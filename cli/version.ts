/** The package version, reported by `--version` (the agent reports the same one to the control plane). */
export { version } from '../engine/index.ts';
