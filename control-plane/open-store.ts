import { SqliteStore } from './store-sqlite.ts';
import type { ControlPlaneStore } from './store.ts';

export interface StoreOptions {
  /** Where the SQLite file lives (`<dataDir>/control-plane.db`); artifacts stay there whatever the store. */
  dataDir: string;
}

/**
 * The one place a control plane's store is chosen and opened. Today: SQLite in the data directory. A
 * `postgres://` URL (several replicas sharing one database) is the branch to add here.
 */
export function openStore(options: StoreOptions): Promise<ControlPlaneStore> {
  try {
    return Promise.resolve(new SqliteStore(options.dataDir));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
