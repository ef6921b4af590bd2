/** The cluster tables, for tests of the lease and the bus on a bare database (the store's migrations create them in a real deployment). */
export const clusterSchemaForTests = `
  CREATE TABLE IF NOT EXISTS cluster_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL, term BIGINT NOT NULL);
  CREATE TABLE IF NOT EXISTS cluster_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, target TEXT NOT NULL, body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());
`;
