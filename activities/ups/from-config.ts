/** The worker's UPS client as configured (temporal.config.ts `ups`): sandbox, stdio command or HTTP URL. */
import type { ShipbatchConfig } from '../../temporal.config';
import { UpsClient } from './client';
import { sandboxTarget, type UpsServerTarget } from './connection';
import { UpsSessionPool } from './session-pool';
import type { ShipbatchMetrics } from '../metrics';

/** Where the configured UPS MCP server is (sandbox by default). */
export function upsServerTarget(ups: ShipbatchConfig['ups']): UpsServerTarget {
  switch (ups.transport) {
    case 'http':
      return { transport: 'http', url: ups.url! };
    case 'stdio':
      return { transport: 'stdio', command: ups.command!, args: ups.args, env: ups.env };
    case 'sandbox':
      // Only the sandbox's own settings: the real server's credentials have no business there.
      return sandboxTarget({
        UPS_SANDBOX_DATA_DIR: ups.sandboxDataDir,
        ...(ups.shipperNumber ? { UPS_ACCOUNT_NUMBER: ups.shipperNumber } : {}),
        ...ups.sandboxKnobsEnv,
      });
  }
}

/**
 * The worker's UPS client, from configuration: a pool of `ups.sessions` sessions (stdio: that many
 * server processes), one call per session at a time; calls and the pool recorded on `metrics` when given.
 */
export function createUpsClient(
  ups: ShipbatchConfig['ups'],
  onServerLog?: (line: string) => void,
  metrics?: ShipbatchMetrics,
): UpsClient {
  const pool = UpsSessionPool.forTarget(upsServerTarget(ups), ups.sessions, onServerLog, metrics);
  return new UpsClient(pool, {
    tools: ups.tools,
    callTimeoutMs: ups.callTimeoutMs,
    callsPerSecond: ups.callsPerSecond,
    metrics,
  });
}
