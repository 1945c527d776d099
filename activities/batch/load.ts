/**
 * Step 1 of a batch (docs/design.md §3): read the source in pages, snapshot every row into the ledger and render
 * + validate its ShipmentRequest. Idempotent and resumable: a retried load goes on after the last row
 * the ledger holds (rows are inserted with ON CONFLICT DO NOTHING), so nothing is read or stored twice.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { BatchInput } from '../../domain/batch';
import { canonicalJson } from '../../domain/json';
import { rowReference } from '../../domain/reference';
import {
  checkSourceFilter,
  describeSource,
  FilterError,
  readSourcePage,
  SourceError,
} from '../../inputs/source';
import { openBatchRenderer } from '../../inputs/template';
import { getBatch, markLoaded, upsertBatch } from '../../db/ledger/batches';
import { insertRows, LedgerConflictError, loadProgress, type LedgerRowInsert } from '../../db/ledger/rows';
import { ledgerTotals } from '../../db/ledger/totals';
import { NO_METRICS, type ShipbatchMetrics } from '../metrics';

/** Source rows read, rendered and inserted per page (one INSERT per page). */
export const LOAD_PAGE_ROWS = 1000;

export interface LoadSummary {
  total: number;
  valid: number;
  invalid: number;
}

/** A problem with the batch's definition that no retry fixes (unknown table, bad filter, template). */
export function batchSourceError(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'BatchSourceError', message, nonRetryable: true });
}

/** sha256 of a row's snapshot (the previewHash is built from these). */
export function rowChecksum(data: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(data)).digest('hex');
}

export async function loadBatch(
  pool: pg.Pool,
  args: { batchId: string; input: BatchInput },
  statementTimeoutMs: number,
  metrics: ShipbatchMetrics = NO_METRICS,
): Promise<LoadSummary> {
  const { batchId, input } = args;
  await upsertBatch(pool, batchId, input);
  const existing = await getBatch(pool, batchId);
  if (existing && canonicalJson(sameBatchKey(existing.input)) !== canonicalJson(sameBatchKey(input))) {
    // A closed batch's id reused for another batch: its ledger rows must not be taken for the new one.
    throw batchSourceError(
      `batch id ${batchId} is already used by another batch in the ledger; choose another id`,
    );
  }
  if (!existing) throw new Error(`batch ${batchId} is not in the ledger after it was recorded`);
  if (!existing.loadedAt) {
    let source;
    try {
      source = await describeSource(pool, input.source.table, input.source.keyColumn);
      // A refused filter stops the batch before any row is read.
      if (input.source.filter) {
        await checkSourceFilter(pool, {
          table: input.source.table,
          filter: input.source.filter,
          statementTimeoutMs,
        });
      }
    } catch (err) {
      if (err instanceof SourceError || err instanceof FilterError) throw batchSourceError(err.message);
      throw err;
    }
    const opened = await openBatchRenderer({
      templateSource: input.template,
      shipper: input.shipper,
      batch: {
        id: batchId,
        ...(input.name ? { name: input.name } : {}),
        labelFormat: input.options.labelFormat,
        referenceKey: existing.referenceKey,
      },
      templateSetsPayer: input.options.templateSetsPayer,
    });
    if (!opened.ok) throw batchSourceError(`template does not compile: ${opened.error}`);
    const renderer = opened.renderer;
    try {
      const ctx = Context.current();
      let { lastRowNo, lastKey } = await loadProgress(pool, batchId);
      for (;;) {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('load cancelled');
        let page;
        try {
          page = await readSourcePage(pool, {
            table: source.table,
            keyColumn: source.keyColumn,
            filter: input.source.filter,
            afterKey: lastKey ?? null,
            limit: LOAD_PAGE_ROWS,
            statementTimeoutMs,
          });
        } catch (err) {
          if (err instanceof SourceError || err instanceof FilterError) throw batchSourceError(err.message);
          throw err;
        }
        if (page.rows.length === 0) break;
        const renderStarted = performance.now();
        const rendered = await renderer.renderRows(
          page.rows.map((r, i) => ({ rowNo: lastRowNo + i + 1, data: r.data })),
        );
        metrics.templateRendered(page.rows.length, performance.now() - renderStarted);
        const inserts: LedgerRowInsert[] = page.rows.map((r, i) => {
          const rowNo = lastRowNo + i + 1;
          const result = rendered[i]!;
          return {
            rowNo,
            sourceKey: r.key,
            data: r.data,
            checksum: rowChecksum(r.data),
            reference: rowReference(existing.referenceKey, rowNo),
            ...(result.ok ? { request: result.request } : { errors: result.errors }),
          };
        });
        try {
          await insertRows(pool, batchId, inserts);
        } catch (err) {
          // Never a silent drop, never a retry that cannot help: the batch fails and says why.
          if (err instanceof LedgerConflictError) throw batchSourceError(err.message);
          throw err;
        }
        lastRowNo += page.rows.length;
        lastKey = page.rows[page.rows.length - 1]!.key;
        ctx.heartbeat({ rowsLoaded: lastRowNo });
        if (page.rows.length < LOAD_PAGE_ROWS) break;
      }
    } finally {
      renderer.dispose();
    }
    await markLoaded(pool, batchId);
  }
  const totals = await ledgerTotals(pool, batchId);
  return {
    total: totals.counts.total,
    invalid: totals.counts.invalid,
    valid: totals.counts.total - totals.counts.invalid,
  };
}

/** What identifies a batch's content: the same id must always mean the same source, template and shipper. */
function sameBatchKey(input: BatchInput): unknown {
  return [
    input.source.table,
    input.source.keyColumn,
    input.source.filter ?? null,
    input.template,
    input.shipper,
  ];
}
