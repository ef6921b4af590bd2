import { openPostgresStore } from './store-postgres.ts';
import { SqliteStore } from './store-sqlite.ts';
import type { ControlPlaneStore } from './store.ts';

export interface StoreOptions {
  /** Where the SQLite file lives (`<dataDir>/control-plane.db`); artifacts stay there whatever the store. */
  dataDir: string;
  /** A `postgres://` (or `postgresql://`) URL: the store is PostgreSQL, shared by every replica that names it. */
  database?: string;
  /** Connections this replica keeps to PostgreSQL at most. */
  poolSize?: number;
  /** PostgreSQL only: scheduler decisions succeed only while `holder` holds the lease `lease` (store-postgres-fence.ts). */
  fence?: { lease: string; holder: string };
}

/** True for the URLs {@link openStore} opens as PostgreSQL. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** The one place a control plane's store is chosen and opened: SQLite in the data directory, or PostgreSQL. */
export async function openStore(options: StoreOptions): Promise<ControlPlaneStore> {
  if (options.database !== undefined) {
    if (!isPostgresUrl(options.database)) throw new RangeError('database: expected a postgres:// or postgresql:// URL (leave it out for SQLite in the data directory)');
    return await openPostgresStore(options.database, {
      ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
      ...(options.fence === undefined ? {} : { fence: options.fence }),
    });
  }
  return new SqliteStore(options.dataDir);
}
