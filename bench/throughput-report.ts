/** The throughput run's figures: each term of the bound, shipbatch against it, and the ratios the issue asks for. */
import type { CpuSeconds } from './cpu';
import type { StepResult } from './throughput-bench';
import type { BatchStep, ThroughputPlan } from './throughput-plan';

export interface BoundTerms {
  /** C/L, P/L: rows/s the window and the sessions allow at latency L (Infinity at L = 0). */
  windowOverLatency: number;
  sessionsOverLatency: number;
  /** R: the calls-per-second cap (one UPS call per row). */
  callsPerSecond: number;
  /** K: the no-op ceiling at the same window. */
  noopCeiling: number;
  /** S: the sandbox's ceiling with the same sessions. */
  sandboxCeiling: number;
}

export interface CaseSummary {
  id: string;
  title: string;
  kind: 'K' | 'S' | 'b' | 'c' | 'd';
  rows: number;
  /** rows/s over the whole batch, load and preview included (calls/s for S). */
  rowsPerS: number;
  /** rows/s while shipping: first shipRow scheduled → last completed. The ratios use this rate. */
  windowRowsPerS?: number;
  p50Ms: number;
  p99Ms: number;
  /** Per row in the ledger: claimed (in_flight) → shipped, the worker's own part of p50/p99. */
  ledgerP50Ms?: number;
  ledgerP99Ms?: number;
  phase?: string;
  shipped?: number;
  failed?: number;
  needsReview?: number;
  runs?: number;
  maxEventsPerRun?: number;
  peakRssMb?: number;
  ledgerBytesPerRow?: number;
  bound?: { rowsPerS: number; binding: keyof BoundTerms; terms: BoundTerms };
  /** CPU milliseconds per row (per call for S), by part of the stack. */
  cpuMsPerRow: CpuSeconds;
  /** Workflow start → first shipRow, last shipRow → close (seconds). */
  beforeS?: number;
  afterS?: number;
  /**
   * What the machine's cores allow when every part shares them: cores × 1000 / (CPU ms per row, all parts).
   * Not a term of the bound (each term is measured with the machine to itself); it tells when the terms
   * together, not one of them, are what binds.
   */
  cpuCeilingRowsPerS?: number;
  /** (b)/bound, (b)/(a) = b/K, (b)/(c) at the same latency. */
  ofBound?: number;
  ofNoop?: number;
  ofBaseline?: number;
}

export interface ThroughputSummary {
  cases: CaseSummary[];
}

const perS = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : Infinity);

function perRow(cpu: CpuSeconds, n: number): CpuSeconds {
  const out = { ...cpu };
  for (const k of Object.keys(out) as (keyof CpuSeconds)[])
    out[k] = n > 0 ? Math.round((cpu[k] * 1e4) / n) / 10 : NaN;
  return out;
}

export function summarize(
  plan: ThroughputPlan,
  results: ReadonlyMap<string, StepResult>,
  cores: number,
): ThroughputSummary {
  const cases: CaseSummary[] = [];
  const noopAt = (c: number) =>
    [...results.values()].find((r) => r.step.kind === 'noop' && r.step.concurrency === c);
  const sandboxAt = (p: number) =>
    [...results.values()].find((r) => r.step.kind === 'sandbox' && r.step.sessions === p);
  const baselineAt = (l: number) =>
    [...results.values()].find(
      (r) => r.step.kind === 'batch' && r.step.role === 'c' && r.step.latencyMs === l,
    );
  for (const step of plan.steps) {
    const r = results.get(step.id);
    if (!r) continue;
    if ('calls' in r) {
      cases.push({
        id: step.id,
        title: step.title,
        kind: 'S',
        rows: r.calls.calls,
        rowsPerS: r.calls.perS,
        p50Ms: r.calls.p50Ms,
        p99Ms: r.calls.p99Ms,
        cpuMsPerRow: perRow(r.cpu, r.calls.calls),
      });
      continue;
    }
    const b = r.batch;
    const summary: CaseSummary = {
      id: step.id,
      title: step.title,
      kind: step.kind === 'noop' ? 'K' : (step as BatchStep).role,
      rows: b.rows,
      rowsPerS: b.rowsPerS,
      windowRowsPerS: b.windowRowsPerS,
      p50Ms: b.p50Ms,
      p99Ms: b.p99Ms,
      ledgerP50Ms: b.ledgerP50Ms,
      ledgerP99Ms: b.ledgerP99Ms,
      phase: b.phase,
      shipped: b.shipped,
      failed: b.failed,
      needsReview: b.needsReview,
      runs: b.runs,
      maxEventsPerRun: b.maxEventsPerRun,
      peakRssMb: b.peakRssMb,
      ledgerBytesPerRow: step.kind === 'noop' ? undefined : Math.round(b.ledgerBytesPerRow),
      cpuMsPerRow: perRow(r.cpu, b.completed),
      cpuCeilingRowsPerS: cpuCeiling(perRow(r.cpu, b.completed), cores),
      beforeS: b.beforeS,
      afterS: b.afterS,
    };
    if (step.kind === 'batch' && step.role === 'b') {
      const k = noopAt(step.concurrency);
      const s = sandboxAt(step.sessions);
      const terms: BoundTerms = {
        windowOverLatency: perS(step.concurrency, step.latencyMs),
        sessionsOverLatency: perS(step.sessions, step.latencyMs),
        callsPerSecond: step.callsPerSecond,
        noopCeiling: k && !('calls' in k) ? k.batch.windowRowsPerS : Infinity,
        sandboxCeiling: s && 'calls' in s ? s.calls.perS : Infinity,
      };
      const binding = (Object.keys(terms) as (keyof BoundTerms)[]).reduce((a, t) =>
        terms[t] < terms[a] ? t : a,
      );
      summary.bound = { rowsPerS: terms[binding], binding, terms };
      // Rates while shipping (the window): the bound's terms are rates, and load and preview are steps of their
      // own whose time does not depend on them (the preview rates 20 rows, whatever the batch's size).
      summary.ofBound = b.windowRowsPerS / terms[binding];
      if (k && !('calls' in k)) summary.ofNoop = b.windowRowsPerS / k.batch.windowRowsPerS;
      const c = baselineAt(step.latencyMs);
      if (c && !('calls' in c)) summary.ofBaseline = b.windowRowsPerS / c.batch.windowRowsPerS;
    }
    cases.push(summary);
  }
  return { cases };
}

function cpuCeiling(msPerRow: CpuSeconds, cores: number): number {
  const total = Object.values(msPerRow).reduce((a, b) => a + b, 0);
  return total > 0 ? (cores * 1000) / total : Infinity;
}

const TERM_NAMES: Record<keyof BoundTerms, string> = {
  windowOverLatency: 'C/L',
  sessionsOverLatency: 'P/L',
  callsPerSecond: 'R',
  noopCeiling: 'K',
  sandboxCeiling: 'S',
};

const num = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? '' : n === Infinity ? '∞' : n.toFixed(digits);

/** The summary as a text table (one line per case), then the ratios in words. */
export function formatTable(summary: ThroughputSummary): string {
  const header = [
    'case',
    'rows',
    'rows/s (whole)',
    'rows/s (shipping)',
    'p50 ms',
    'p99 ms',
    'bound (term)',
    '/bound',
    '/K',
    '/c',
  ];
  const lines = summary.cases.map((c) => [
    c.id,
    String(c.rows),
    num(c.rowsPerS),
    num(c.windowRowsPerS),
    num(c.p50Ms, 0),
    num(c.p99Ms, 0),
    c.bound ? `${num(c.bound.rowsPerS)} (${TERM_NAMES[c.bound.binding]})` : '',
    num(c.ofBound, 2),
    num(c.ofNoop, 2),
    num(c.ofBaseline, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [row(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)];
  for (const c of summary.cases) {
    if (c.kind === 'S') continue;
    out.push(
      `${c.id}: ${c.phase}, shipped ${c.shipped}, failed ${c.failed}, needs review ${c.needsReview}; runs ${c.runs}, ` +
        `events/run max ${c.maxEventsPerRun}, peak RSS ${c.peakRssMb} MB, ` +
        `${Number.isNaN(c.ledgerP50Ms ?? NaN) ? '' : `claimed → shipped p50 ${num(c.ledgerP50Ms, 0)} ms p99 ${num(c.ledgerP99Ms, 0)} ms, `}` +
        `${c.ledgerBytesPerRow === undefined ? '' : `ledger ${c.ledgerBytesPerRow} B/row; `}` +
        `before the first row ${num(c.beforeS)} s, after the last ${num(c.afterS)} s`,
    );
  }
  for (const c of summary.cases) {
    const cpu = c.cpuMsPerRow;
    out.push(
      `${c.id}: CPU ms per ${c.kind === 'S' ? 'call' : 'row'}: worker ${cpu.worker}, sandbox ${cpu.sandbox}, ` +
        `Temporal ${cpu.temporal}, PostgreSQL ${cpu.postgres}, other ${cpu.other}`,
    );
  }
  for (const c of summary.cases) {
    if (!c.bound) continue;
    const t = c.bound.terms;
    out.push(
      `${c.id}: bound terms C/L ${num(t.windowOverLatency)}, P/L ${num(t.sessionsOverLatency)}, R ${num(t.callsPerSecond, 0)}, ` +
        `K ${num(t.noopCeiling)}, S ${num(t.sandboxCeiling)} rows/s; the cores shared by every part allow ` +
        `${num(c.cpuCeilingRowsPerS)} rows/s`,
    );
  }
  return out.join('\n');
}
