/**
 * The Web UI's current details of a batch: a few lines of markdown about its phase, counts, costs and,
 * while it waits for UPS, the outage. Set again at every phase change and after every row.
 */
import type { UpsOutage } from '../domain/batch';
import { formatCents } from '../domain/money';
import type { BatchState } from './batch-state';

/** Progress lines for the Web UI's current details. */
export function progressMarkdown(s: BatchState): string {
  const c = s.counts;
  const money = (cents: number) => `${formatCents(cents)} ${s.currency}`;
  return [
    `**${s.phase}** · mode ${s.mode}${s.modeLocked ? ' (locked)' : ''}`,
    `shipped ${c.shipped} · failed ${c.failed} · needs review ${c.needsReview} · pending ${c.pending} · in flight ${s.inFlightCount} · invalid ${c.invalid} of ${c.total}`,
    `cost so far ${money(s.actualCostCents)} (estimate ${money(s.estimatedCostCents)})`,
    ...(s.upsOutage ? [outageMarkdown(s.upsOutage)] : []),
  ].join('\n\n');
}

/** The outage for the Web UI's current details: what, since when, what happens next. */
function outageMarkdown(o: UpsOutage): string {
  const next = o.nextProbeAt ? `next check ${o.nextProbeAt}` : 'checking now';
  const action = o.needsOperator
    ? 'Fix the UPS credentials, then send the `resume` signal `{}` (or wait: a check that succeeds resumes too).'
    : 'Shipping resumes by itself when UPS answers; `resume` `{}` tries at once.';
  return `**waiting for UPS** since ${o.since}: ${o.reason} (${o.probes} checks, ${next}). ${action}`;
}
