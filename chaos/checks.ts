/**
 * The invariants checked after every scenario, from three independent records: the ledger (`batch_rows`),
 * the batch's result (the workflow's return value) and the sandbox's own record of what UPS did
 * (`shipments.jsonl` and the call log). A breach names the row it concerns.
 */
import type pg from 'pg';
import type { BatchResult } from '../domain/batch';
import { FINAL_PHASES } from '../domain/batch';
import { readCallLog, shipmentsPerReference, type CallLogEntry } from '../ups-sandbox/call-log';
import { readShipments } from '../ups-sandbox/store';

/** What a scenario allows. */
export interface CheckRules {
  /**
   * The scenario makes UPS fail to answer (faults, hangs): a row may need review, but only one whose
   * reconcile lookups (`recover_label` by its reference) UPS failed to answer. Otherwise no row may.
   */
  reviewWhereUnanswered: boolean;
  /** A deploy: no row may become doubtful (no label recovery for any row). */
  noAmbiguity: boolean;
}

/** One offending row (or a batch-level mismatch when `rowNo` is absent). */
export interface Breach {
  rowNo?: number;
  reference?: string;
  ledgerStatus?: string;
  sandboxShipments?: number;
  why: string;
}

export interface CheckFigures {
  rows: number;
  shipped: number;
  duplicates: number;
  lost: number;
  needsReview: number;
  /** Rows UPS was asked about by reference (a create whose outcome was not known). */
  doubtful: number;
  /** Calls the sandbox failed on purpose (faults, hangs) or served late (`slow`, answered or not). */
  upsFaults: number;
}

interface LedgerRow {
  row_no: number;
  reference: string;
  status: string;
  shipment_id: string | null;
  cost_cents: string | null;
}

/** How each injected fault kind shows in the sandbox's call log (UPS codes from ups-sandbox/README.md). */
const FAULT_EVIDENCE: Record<string, (c: CallLogEntry) => boolean> = {
  rate_limit: (c) => c.outcome === 'fault' && c.code === '10429',
  unavailable: (c) => c.outcome === 'fault' && c.code === '190001',
  hang: (c) => c.code === 'hang',
  timeout_after_create: (c) => c.code === 'timeout_after_create',
  hang_after_create: (c) => c.code === 'hang_after_create',
  slow: (c) => c.slowMs !== undefined,
};

/**
 * Slow creates UPS made (or is making) whose call was never answered, so no call log entry shows them:
 * their caller gave up and its sandbox process was stopped while UPS went on.
 */
function unansweredSlowCreates(sandboxDir: string, calls: CallLogEntry[]): number {
  const answered = new Set(calls.flatMap((c) => c.trackingNumbers ?? []));
  return readShipments(sandboxDir, { pending: true }).filter(
    (r) => r.slowMs !== undefined && !r.packages.some((p) => answered.has(p.trackingNumber)),
  ).length;
}

/**
 * The fault kinds of `kinds` that the sandbox's record shows no trace of (the scenario did not happen):
 * its call log, and for `slow` also the shipments of slow creates nobody heard back from.
 */
export function faultKindsMissing(sandboxDir: string, kinds: readonly string[]): string[] {
  const calls = readCallLog(sandboxDir);
  const slowUnanswered = kinds.includes('slow') ? unansweredSlowCreates(sandboxDir, calls) : 0;
  return kinds.filter(
    (k) => !(k === 'slow' && slowUnanswered > 0) && !calls.some((c) => FAULT_EVIDENCE[k]?.(c) ?? false),
  );
}

const TERMINAL = new Set(['shipped', 'failed', 'needs_review', 'cancelled', 'voided', 'invalid']);

/** Check a closed batch against the ledger and the sandbox's record. */
export async function checkBatch(
  pool: pg.Pool,
  batchId: string,
  result: BatchResult,
  sandboxDir: string,
  rules: CheckRules,
): Promise<{ figures: CheckFigures; breaches: Breach[] }> {
  const { rows } = await pool.query<LedgerRow>(
    `SELECT row_no, reference, status, shipment_id, cost_cents FROM batch_rows WHERE batch_id = $1 ORDER BY row_no`,
    [batchId],
  );
  const perReference = shipmentsPerReference(sandboxDir);
  const shipmentIds = new Set(readShipments(sandboxDir, { pending: true }).map((s) => s.shipmentId));
  const calls = readCallLog(sandboxDir);
  // Rows whose reconcile UPS failed to answer: a label recovery by their reference faulted or hung.
  const unanswered = new Set(
    calls
      .filter((c) => c.tool === 'recover_label' && (c.outcome === 'fault' || c.outcome === 'hang'))
      .flatMap((c) => c.reference ?? []),
  );
  const lookedUp = new Set(calls.filter((c) => c.tool === 'recover_label').flatMap((c) => c.reference ?? []));
  const breaches: Breach[] = [];
  let lost = 0;
  const known = new Set<string>();

  for (const r of rows) {
    known.add(r.reference);
    const atUps = perReference.get(r.reference) ?? 0;
    const breach = (why: string) =>
      breaches.push({
        rowNo: r.row_no,
        reference: r.reference,
        ledgerStatus: r.status,
        sandboxShipments: atUps,
        why,
      });
    if (!TERMINAL.has(r.status)) {
      lost++;
      breach('not terminal');
    }
    if (atUps > 1) breach(`shipped ${atUps} times at UPS`);
    if (r.status === 'shipped') {
      if (atUps === 0) {
        lost++;
        breach('shipped in the ledger, no shipment at UPS');
      } else if (!r.shipment_id || !shipmentIds.has(r.shipment_id)) {
        breach(`the ledger's shipment ${r.shipment_id ?? '(none)'} is not UPS's`);
      }
    } else if (atUps > 0 && r.status !== 'needs_review') {
      lost++;
      breach('shipped at UPS, not in the ledger');
    }
    if (r.status === 'needs_review') {
      if (!rules.reviewWhereUnanswered) breach('needs review although UPS answered every call');
      else if (!unanswered.has(r.reference)) breach('needs review, yet UPS answered every lookup of it');
    }
    if (rules.noAmbiguity && lookedUp.has(r.reference)) breach('became doubtful (looked up by reference)');
  }
  for (const [reference, n] of perReference) {
    if (!known.has(reference))
      breaches.push({ reference, sandboxShipments: n, why: 'shipment at UPS for no row' });
  }

  const count = (status: string) => rows.filter((r) => r.status === status).length;
  const shipped = count('shipped');
  const ledgerCents = rows
    .filter((r) => r.status === 'shipped')
    .reduce((sum, r) => sum + Number(r.cost_cents ?? 0), 0);
  const batchLevel = (why: string) => breaches.push({ why });
  if (!FINAL_PHASES.has(result.phase)) batchLevel(`batch phase ${result.phase} is not final`);
  if (result.counts.total !== rows.length)
    batchLevel(`result total ${result.counts.total} ≠ ledger ${rows.length}`);
  if (result.counts.shipped !== shipped)
    batchLevel(`result shipped ${result.counts.shipped} ≠ ledger ${shipped}`);
  if (result.counts.needsReview !== count('needs_review'))
    batchLevel(`result needs_review ${result.counts.needsReview} ≠ ledger ${count('needs_review')}`);
  if (result.totalCostCents !== ledgerCents)
    batchLevel(`result total cost ${result.totalCostCents} ≠ ledger ${ledgerCents} cents`);
  const atUps = rows.filter((r) => (perReference.get(r.reference) ?? 0) > 0 && r.status === 'shipped').length;
  if (atUps !== shipped) batchLevel(`sandbox holds shipments of ${atUps} shipped rows, ledger ${shipped}`);

  return {
    figures: {
      rows: rows.length,
      shipped,
      duplicates: [...perReference.values()].filter((n) => n > 1).length,
      lost,
      needsReview: count('needs_review'),
      doubtful: lookedUp.size,
      upsFaults:
        calls.filter((c) => c.outcome === 'fault' || c.outcome === 'hang' || c.slowMs !== undefined).length +
        unansweredSlowCreates(sandboxDir, calls),
    },
    breaches,
  };
}
