/**
 * The attention triage: why an open batch needs someone, and what would move it on. Pure: the client finds the
 * batches (`attentionBatches`) and renders these choices as commands; an agent can offer the same choices in
 * its own words.
 */
import type { RowCounts, UpsOutage } from './batch';

/**
 * Why a batch needs attention: `awaiting_approval`, `awaiting_action`, `waiting_for_ups` (UPS does not answer
 * or refused the credentials), `retrying` (an activity keeps failing) or `no_worker`.
 */
export type AttentionReason =
  'awaiting_approval' | 'awaiting_action' | 'waiting_for_ups' | 'retrying' | 'no_worker';

/**
 * One thing that would move a batch on: an operation of the batch (`preview`, `status`, an Update's name),
 * `start_worker` (a worker on its task queue) or `terminate` (the Temporal workflow, when no worker runs).
 */
export type AttentionChoice =
  | { action: 'preview' | 'approve' | 'reject' | 'finish' | 'resume' | 'status' | 'cancel' }
  | { action: 'restart'; scope: 'failed' }
  | { action: 'resolve'; outcome: 'shipped' | 'retry' }
  | { action: 'start_worker' }
  | { action: 'terminate' };

/**
 * What would move on a batch that needs attention for `reason`, in the order to offer them. `outage` is the
 * batch's UPS outage while it waits for UPS (unknown when its status could not be read).
 */
export function attentionChoices(
  reason: AttentionReason,
  counts: RowCounts,
  outage?: UpsOutage,
): AttentionChoice[] {
  switch (reason) {
    case 'awaiting_approval':
      return [{ action: 'preview' }, { action: 'approve' }, { action: 'reject' }, { action: 'cancel' }];
    case 'awaiting_action': {
      const out: AttentionChoice[] = [];
      if (counts.failed > 0) out.push({ action: 'restart', scope: 'failed' });
      if (counts.needsReview > 0) {
        out.push({ action: 'resolve', outcome: 'shipped' }, { action: 'resolve', outcome: 'retry' });
      }
      out.push({ action: 'finish' }, { action: 'cancel' });
      return out;
    }
    case 'waiting_for_ups':
      // Refused credentials wait for the operator; otherwise the batch resumes by itself when a probe
      // succeeds (`resume` would only try again at once).
      return outage?.needsOperator === false
        ? [{ action: 'status' }, { action: 'cancel' }]
        : [{ action: 'resume' }, { action: 'status' }, { action: 'cancel' }];
    case 'retrying':
      return [{ action: 'status' }, { action: 'cancel' }];
    case 'no_worker':
      // Updates need a worker too: starting one is the way on (terminating loses nothing shipped, stops the rest).
      return [{ action: 'start_worker' }, { action: 'terminate' }];
  }
}
