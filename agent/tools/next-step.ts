/** The `next_step` text of the tools' answers: what the agent does next, by the batch's phase. */
import type { BatchStatus, UpsOutage } from '../../client/index';

/** What to do next about a batch in this status. */
export function nextStep(id: string, s: BatchStatus): string {
  if (s.phase === 'awaiting_approval') {
    return `Show this preview to the user. Once they approve, call batch_execute with job_id "${id}" and approved: true.`;
  }
  if (s.phase === 'executing')
    return `The batch is shipping; follow it with batch_execute {job_id: "${id}"}.`;
  if (s.phase === 'awaiting_action') {
    return `Some rows failed or need review; batch_resume {job_id: "${id}"} shows the choices.`;
  }
  if (s.phase === 'waiting_for_ups') return upsNextStep(id, s);
  return `The batch is ${s.phase}; nothing more to do.`;
}

/**
 * What to do about a batch waiting for UPS (the outage unknown when its status did not answer). Before
 * its preview (UPS rated no row) the preview follows once UPS answers; after it, shipping goes on.
 */
export function upsNextStep(id: string, s: BatchStatus): string {
  const o = s.upsOutage;
  const previewed = s.previewHash !== undefined;
  const paused = previewed ? 'Shipping is paused' : 'No preview yet: UPS rated no row';
  const follow = previewed
    ? `follow it with batch_execute {job_id: "${id}", wait_seconds: 30}`
    : `call batch_preview with job_id "${id}" again to get the preview once UPS answers`;
  if (!o) {
    return `The batch waits for UPS; batch_execute {job_id: "${id}"} shows why. It resumes by itself when UPS answers, unless UPS refused the credentials.`;
  }
  if (o.needsOperator) {
    return `${paused}: ${o.reason} (since ${o.since}). Ask the user to fix the UPS credentials of the shipbatch worker, then call batch_resume {job_id: "${id}", choice: "resume"}; or cancel the batch with choice "cancel". Rows not yet sent stay pending; none is shipped twice.`;
  }
  return `${paused}: ${o.reason} (since ${o.since}; ${probesText(o)}). Nothing to do: the batch resumes by itself when UPS answers; ${follow}, or cancel it with batch_resume choice "cancel".`;
}

/** How many times UPS was probed and when next. */
export function probesText(o: UpsOutage): string {
  return `${o.probes} probe(s) so far, ${o.nextProbeAt ? `next at ${o.nextProbeAt}` : 'one running now'}`;
}
