import type pg from 'pg';
import { createBatchActivities } from './batch';
import { createStackCheckActivities } from './stack-check';
import { createTrackingActivities } from './tracking';
import type { UpsClient } from './ups/client';
import type { ShipbatchMetrics } from './metrics';

/** What the activities need from the worker process: long-lived resources, opened once. */
export interface ActivityDeps {
  pool: pg.Pool;
  /** The worker's one UPS MCP session (opened on first use, reconnected on failure). */
  ups: UpsClient;
  workerIdentity: string;
  /** Statement timeout of source reads, where the user's filter runs. */
  statementTimeoutMs: number;
  /** How long UPS must keep answering "not found" before a doubtful row is shipped again. */
  reconcileGraceMs: number;
  /** The UPS call timeout (a create sent longer ago than this has ended at the client). */
  callTimeoutMs: number;
  /** Whether a doubtful row not found after the grace is created again (else: needs review). */
  recreateAfterGrace: boolean;
  /** Where row outcomes and render times are recorded (activities/metrics.ts); default: nowhere. */
  metrics?: ShipbatchMetrics;
}

/** The activities registered on the `shipbatch` task queue, bound to the worker's resources. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStackCheckActivities(deps),
    ...createBatchActivities(deps),
    ...createTrackingActivities(deps),
  };
}

/** The activity interface as workflows see it (`proxyActivities<Activities>`). */
export type Activities = ReturnType<typeof createActivities>;
