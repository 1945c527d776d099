import { readlink, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Remove a data dir an embedded stack used, with its PostgreSQL cluster: as root the cluster lives outside
 * the (private) data dir, under /var/lib/shipbatch/clusters, linked from `<dataDir>/pg`.
 */
export async function removeDataDir(dataDir: string): Promise<void> {
  const cluster = await readlink(path.join(dataDir, 'pg')).catch(() => undefined);
  if (cluster) await rm(path.resolve(dataDir, cluster), { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
}
