import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { recordStackCheck } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10 },
});

/**
 * Round-trips Temporal → worker → PostgreSQL. `npm start` runs it to show the embedded stack works,
 * and the workflow tests use it as the smallest real workflow.
 */
export async function stackCheck(checkId: string) {
  return recordStackCheck(checkId);
}
