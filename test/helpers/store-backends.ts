// The control-plane stores under test: SQLite in a temp dir, and PostgreSQL in a fresh database per test on a
// real server (test/helpers/servers/postgres.ts).
import pg from 'pg';
import { SqliteStore } from '../../control-plane/store-sqlite.ts';
import type { ControlPlaneStore } from '../../control-plane/store.ts';
import { openPostgresStore, type PostgresStoreOptions } from '../../control-plane/store-postgres.ts';
import type { PostgresServer } from './servers/postgres.ts';
import { makeTempDir } from './servers/temp-dir.ts';

export interface OpenedStore {
  store: ControlPlaneStore;
  close(): Promise<void>;
}

export function openSqliteStore(): OpenedStore {
  const dir = makeTempDir('store-contract');
  const store: ControlPlaneStore = new SqliteStore(dir.path);
  return {
    store,
    async close() {
      await store.close();
      dir.remove();
    },
  };
}

/** The URL of a database on `server`, optionally with extra query parameters. */
export function postgresUrl(server: PostgresServer, database: string, query = ''): string {
  return `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/${database}${query === '' ? '' : `?${query}`}`;
}

let databases = 0;

/** A new, empty database on `server` (each test gets its own, so none sees another's rows). */
export async function createDatabase(server: PostgresServer): Promise<string> {
  const name = `store_${process.pid}_${++databases}`;
  const admin = new pg.Client({ connectionString: postgresUrl(server, server.database) });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return name;
}

export async function openPostgresTestStore(server: PostgresServer, options: PostgresStoreOptions = {}): Promise<OpenedStore & { url: string }> {
  const url = postgresUrl(server, await createDatabase(server));
  const store = await openPostgresStore(url, { poolSize: 3, ...options });
  return { store, url, close: () => store.close() };
}
