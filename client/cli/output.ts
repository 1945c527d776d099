/**
 * Human output of the CLI: tables, money, CSV, JSON arrays a row at a time, the progress line. Pure functions
 * (tested without a stack).
 */
import { formatCents } from '../../domain/money';
import type { RowCounts, UpsOutage } from '../../domain/batch';
import type { PreflightProgress } from '../../domain/preflight';
import { rowsToSettle } from '../../domain/row-counts';

/** Cents as money: `$1,234.56` for USD, `1,234.56 EUR` otherwise. */
export function formatMoney(cents: number, currency = 'USD'): string {
  const [whole, frac] = formatCents(Math.abs(cents)).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = cents < 0 ? '-' : '';
  return currency === 'USD' ? `${sign}$${grouped}.${frac}` : `${sign}${grouped}.${frac} ${currency}`;
}

/** Any value as text: objects as JSON. */
function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? '';
}

/** Control characters out of a value shown on a terminal (row data is hostile: no escape sequences). */
export function clean(text: unknown): string {
  const s = str(text);
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ');
}

export type Align = 'left' | 'right';

/**
 * The layout of a plain-text table, for rows that are not all in memory at once: `measure` every row
 * (a first pass), then print `head()` and `line(row)` for each (a second pass). `right` columns are
 * right-aligned.
 */
export class TableLayout {
  private readonly widths: number[];

  constructor(
    private readonly headers: string[],
    private readonly right: number[] = [],
  ) {
    this.widths = headers.map((h) => h.length);
  }

  measure(row: unknown[]): void {
    for (let i = 0; i < this.widths.length; i++) {
      this.widths[i] = Math.max(this.widths[i]!, clean(row[i]).length);
    }
  }

  private render(cells: string[]): string {
    return cells
      .map((c, i) => (this.right.includes(i) ? c.padStart(this.widths[i]!) : c.padEnd(this.widths[i]!)))
      .join('  ')
      .trimEnd();
  }

  /** The header row and the rule under it. */
  head(): string {
    return `${this.render(this.headers)}\n${this.render(this.widths.map((w) => '-'.repeat(w)))}`;
  }

  line(row: unknown[]): string {
    return this.render(row.map(clean));
  }
}

/** A plain-text table: a header row, a rule, the rows; `right` columns are right-aligned. */
export function table(headers: string[], rows: unknown[][], right: number[] = []): string {
  const layout = new TableLayout(headers, right);
  for (const r of rows) layout.measure(r);
  return [layout.head(), ...rows.map((r) => layout.line(r))].join('\n');
}

/**
 * A JSON array written an element at a time, byte for byte what `JSON.stringify(all, null, 2)` prints:
 * `jsonArrayItem(v, i)` for the i-th element (from 0), then `jsonArrayEnd(count)`.
 */
export function jsonArrayItem(value: unknown, index: number): string {
  // Strings in JSON never hold a raw newline, so every newline is a line break of the layout.
  const item = `  ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}`;
  return index === 0 ? `[\n${item}` : `,\n${item}`;
}

export function jsonArrayEnd(count: number): string {
  return count === 0 ? '[]' : '\n]';
}

/** One CSV field (RFC 4180), with spreadsheet formula triggers neutralised (`=cmd|…` opens as text). */
export function csvField(value: unknown): string {
  let s = str(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** Seconds as `1:05`, `1:02:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** What one progress sample says. */
export interface ProgressSample {
  phase: string;
  counts: RowCounts;
  actualCostCents: number;
  currency: string;
  /** While the phase is `waiting_for_ups`. */
  upsOutage?: UpsOutage;
  /** Once the address check or rate shopping started. */
  preflight?: PreflightProgress;
}

/** `address check 3 of 10, rate shopping 0 of 10` (empty when there is no pre-flight). */
export function preflightProgressText(p: PreflightProgress | undefined): string {
  if (!p) return '';
  const parts: string[] = [];
  if (p.addressCheck) parts.push(`address check ${p.addressCheck.done} of ${p.addressCheck.total}`);
  if (p.rateShopping) parts.push(`rate shopping ${p.rateShopping.done} of ${p.rateShopping.total}`);
  return parts.join(', ');
}

/** What happens next in a UPS outage: by itself, or the operator fixes the credentials and resumes. */
export function outageNext(o: Pick<UpsOutage, 'needsOperator'>, batchId: string): string {
  return o.needsOperator
    ? `UPS refused the credentials: fix them, then \`shipbatch resume ${batchId}\``
    : 'resumes by itself when UPS answers';
}

/** `3 probes, next probe at <ISO>` (or `probing now` while a probe runs). */
export function outageProbes(o: UpsOutage, time: (iso: string) => string = (iso) => iso): string {
  const probes = `${o.probes} probe${o.probes === 1 ? '' : 's'}`;
  return `${probes}, ${o.nextProbeAt ? `next probe at ${time(o.nextProbeAt)}` : 'probing now'}`;
}

/** The `status` lines of a UPS outage (label column as in `shipbatch status`). */
export function outageLines(o: UpsOutage, batchId: string): string[] {
  return [
    `  ups       ${clean(o.reason)}`,
    `  since     ${clean(o.since)}`,
    `  probes    ${clean(outageProbes(o))}`,
    `  next      ${outageNext(o, batchId)}`,
  ];
}

/** `2025-06-01T10:05:00.000Z` → `10:05:00 UTC` (the progress line is short). */
function clockTime(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? `${m[1]} UTC` : iso;
}

/**
 * Rate and ETA from samples over time: rows settled (`rowsSettled` of domain/row-counts.ts) per second since
 * the first sample that was executing, ETA for the rows still to settle (pending or in flight).
 */
export class RateMeter {
  private first?: { at: number; done: number };
  rate(now: number, done: number): number {
    if (!this.first) {
      this.first = { at: now, done };
      return 0;
    }
    const dt = (now - this.first.at) / 1000;
    return dt > 0.5 ? Math.max(0, done - this.first.done) / dt : 0;
  }
}

const BEFORE_EXECUTION = new Set(['loading', 'previewing', 'awaiting_approval']);

/**
 * The progress line: a bar, counts, rows/s, cost so far, ETA. `width` is the bar's width in characters.
 * While the batch waits for UPS, no bar (nothing moves): the reason, the counts and the next probe.
 */
export function progressLine(s: ProgressSample, rowsPerSecond: number, width = 24): string {
  const c = s.counts;
  if (s.phase === 'waiting_for_ups') {
    const o = s.upsOutage;
    return (
      `waiting_for_ups: ${o ? clean(o.reason) : 'UPS does not answer'} | ` +
      `shipped ${c.shipped} failed ${c.failed}${c.needsReview ? ` review ${c.needsReview}` : ''} pending ${rowsToSettle(c)}` +
      (o ? ` | ${clean(outageProbes(o, clockTime))}` : '')
    );
  }
  if (BEFORE_EXECUTION.has(s.phase)) {
    const preflight = s.phase === 'previewing' ? preflightProgressText(s.preflight) : '';
    return (
      `${s.phase}: ${c.total} rows read, ${c.invalid} invalid` +
      (s.phase === 'loading' ? '' : `, ${c.total - c.invalid} to ship`) +
      (preflight ? ` | ${preflight}` : '')
    );
  }
  const toShip = c.total - c.invalid;
  const remaining = rowsToSettle(c);
  const frac = toShip > 0 ? (toShip - remaining) / toShip : 1;
  const shippedW = toShip > 0 ? Math.round((c.shipped / toShip) * width) : 0;
  const otherW = Math.max(0, Math.round(frac * width) - shippedW);
  const bar = '#'.repeat(shippedW) + 'x'.repeat(Math.min(width - shippedW, otherW));
  const eta = rowsPerSecond > 0 ? formatDuration(remaining / rowsPerSecond) : '--:--';
  return (
    `[${bar.padEnd(width, '.')}] ${String(Math.round(frac * 100)).padStart(3)}% ` +
    `shipped ${c.shipped} failed ${c.failed}${c.needsReview ? ` review ${c.needsReview}` : ''} pending ${remaining}` +
    ` | ${rowsPerSecond.toFixed(1)} rows/s | ${formatMoney(s.actualCostCents, s.currency)} | ETA ${eta} | ${s.phase}`
  );
}
