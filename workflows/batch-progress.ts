/**
 * The Web UI's current details of a batch: a few lines of markdown about its phase, counts, costs, what the
 * operator can do next (the exact signal payloads, to paste into the UI's Send a Signal dialog) and, while
 * it waits for UPS, the outage. Set again at every phase change and after every row. Row numbers and the
 * preview's hash only: never row data.
 */
import type { ActionRows, UpsOutage } from '../domain/batch';
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
    ...preflightMarkdown(s),
    ...pickupMarkdown(s),
    ...nextStepMarkdown(s),
  ].join('\n\n');
}

/** The pre-flight's progress while it runs (address check, rate shopping): rows done of all. */
function preflightMarkdown(s: BatchState): string[] {
  if (s.phase === 'awaiting_approval') return preflightOutcomes(s);
  if (!s.preflight || (s.phase !== 'previewing' && s.phase !== 'waiting_for_ups')) return [];
  const step = (what: string, p: { done: number; total: number } | undefined) =>
    p ? [`${what}: ${p.done} of ${p.total} rows${p.done >= p.total ? ' (done)' : ''}`] : [];
  const lines = [
    ...step('address check', s.preflight.addressCheck),
    ...step('rate shopping', s.preflight.rateShopping),
  ];
  return lines.length > 0 ? [lines.join(' · ')] : [];
}

/** What the pre-flight found, for the operator about to approve: counts, row numbers and cents only. */
function preflightOutcomes(s: BatchState): string[] {
  const out: string[] = [];
  const a = s.preview?.addressCheck;
  if (a) {
    const rows = (label: string, n: number, shown: number[]) =>
      n > 0 ? [`${label} ${n} (rows ${rowList(shown, n)})`] : [];
    out.push(
      [
        `address check (${a.mode}): valid ${a.valid}`,
        ...rows('corrected', a.corrected, a.rows.corrected),
        ...rows('ambiguous', a.ambiguous, a.rows.ambiguous),
        ...rows('not found', a.notFound, a.rows.notFound),
        ...rows('unchecked', a.unchecked, a.rows.unchecked),
        `residential ${a.residential}`,
        ...(a.invalidated > 0 ? [`made invalid ${a.invalidated}`] : []),
      ].join(' · '),
    );
  }
  const r = s.preview?.rateShopping;
  if (r) {
    const limit = r.maxTransitDays === undefined ? '' : ` within ${r.maxTransitDays} business days`;
    out.push(
      `rate shopping (cheapest${limit}): ${r.changed} of ${r.shopped} rows change service, saving ` +
        `${formatCents(r.savingsCents)} ${r.currency}` +
        (r.noService > 0
          ? ` · no service in time: ${r.noService} (rows ${rowList(r.rows.noService, r.noService)})`
          : ''),
    );
  }
  return out;
}

/** UPS's words as plain text in markdown: no markup, links or line breaks of theirs. */
const plain = (text: string) => text.replace(/[\\`*_[\]()#<>|!~\r\n]/g, ' ').slice(0, 300);

/** The pickup: before approval its charge, afterwards UPS's answer (PRN, or why there is none). */
function pickupMarkdown(s: BatchState): string[] {
  const window = (w: { date: string; readyTime: string; closeTime: string; timeZone?: string }) =>
    `pickup ${w.date} ${w.readyTime}–${w.closeTime}${w.timeZone ? ` ${w.timeZone}` : ''}`;
  const p = s.pickup;
  if (p) {
    const what = p.prn ? `${p.state}, PRN ${p.prn}` : p.state;
    const shared = p.sharedWith?.length ? ` · shared with ${p.sharedWith.join(', ')}` : '';
    const error = p.error ? ` · ${plain(p.error)}` : '';
    return [`${window(p)}: ${what}${shared}${error}`];
  }
  const q = s.phase === 'awaiting_approval' ? s.preview?.pickup : undefined;
  if (!q) return [];
  const charge =
    q.costCents === undefined
      ? `no charge from UPS (${plain(q.error ?? 'unknown')})`
      : `${formatCents(q.costCents)} ${q.currency ?? s.currency}`;
  return [`${window(q)}: ${charge}`];
}

/** A payload as inline code (JSON has no backticks: it cannot close the span). */
const payload = (value: object) => `\`${JSON.stringify(value)}\``;

/** What the operator can send now, with the payloads; nothing in phases that need no one. */
function nextStepMarkdown(s: BatchState): string[] {
  if (s.phase === 'awaiting_approval') {
    const hash = s.preview?.previewHash;
    const approve = hash ? { previewHash: hash } : {};
    // The payload on a line of its own: the operator copies it into the Send a Signal dialog.
    return [
      `**Next: approve or reject.** Send a Signal \`approve\` with`,
      payload(approve),
      `to ship the rows of this preview (add \`"by"\` with your name), or \`reject\` with ${payload({ reason: 'why' })}.`,
    ];
  }
  if (s.phase !== 'awaiting_action') return [];
  const rows = s.actionRows ?? { failed: [], needsReview: [] };
  const lines = [
    `**Next: act on the rows below**, or Send a Signal \`finish\` with ${payload({})} to close the batch as it is.`,
  ];
  if (s.counts.failed > 0) {
    lines.push(
      `Failed ${s.counts.failed}: rows ${rowList(rows.failed, s.counts.failed)}. ` +
        `\`restart\` with ${payload({ scope: 'failed' })} ships them again.`,
    );
  }
  if (s.counts.needsReview > 0) {
    const row = rows.needsReview[0] ?? 1;
    lines.push(
      `Needs review ${s.counts.needsReview}: rows ${rowList(rows.needsReview, s.counts.needsReview)}. ` +
        `\`restart\` with ${payload({ scope: 'needs_review' })} asks UPS about them again; ` +
        `\`resolve\` with ${payload({ row, outcome: 'shipped', trackingNumber: '1Z…' })} (found at UPS) or ` +
        `${payload({ row, outcome: 'retry' })} (not shipped: ship again) settles one.`,
    );
  }
  return lines;
}

/** The row numbers shown, and how many more there are. */
function rowList(shown: ActionRows['failed'], count: number): string {
  const more = count - shown.length;
  return shown.length === 0 ? `(${count})` : `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** The outage for the Web UI's current details: what, since when, what happens next. */
function outageMarkdown(o: UpsOutage): string {
  const next = o.nextProbeAt ? `next check ${o.nextProbeAt}` : 'checking now';
  const action = o.needsOperator
    ? 'Fix the UPS credentials, then send the `resume` signal `{}` (or wait: a check that succeeds resumes too).'
    : 'Shipping resumes by itself when UPS answers; `resume` `{}` tries at once.';
  return `**waiting for UPS** since ${o.since}: ${o.reason} (${o.probes} checks, ${next}). ${action}`;
}
