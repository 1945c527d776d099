/** The embedded PostgreSQL under test, with the harness's Temporal: the configuration a start-up test uses. */
import assert from 'node:assert/strict';
import { loadConfig, type ShipbatchConfig } from '../../temporal.config';
import { freePort } from '../../stack/processes';

/** The harness's Temporal (TEMPORAL_ADDRESS) as the external one; embedded PostgreSQL under `dataDir`. */
export async function pgOnlyConfig(dataDir: string): Promise<ShipbatchConfig> {
  const base = loadConfig();
  assert.equal(base.temporal.embedded, false, 'the test harness provides TEMPORAL_ADDRESS');
  return { ...base, dataDir, database: { ...base.database, embedded: true, embeddedPort: await freePort() } };
}
