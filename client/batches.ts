/**
 * The typed client of shipbatch (docs/design.md §9): start batches, read their status and preview, send the
 * operations as Updates (a refusal is a {@link BatchRefusedError} with the workflow's reason), list them
 * through visibility and read rows and labels from the ledger. Every input is validated with the
 * contract's zod schemas before anything is sent. The pieces are modules of their own: the connection,
 * error mapping, Web UI texts, visibility and the attention triage.
 */
import {
  Client,
  type Connection,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, type UpdateDefinition } from '@temporalio/common';
import type pg from 'pg';
import type { z } from 'zod';
import {
  ApproveSchema,
  BatchInputSchema,
  CancelSchema,
  describeIssues,
  FinishSchema,
  RejectSchema,
  ResolveSchema,
  RestartSchema,
  ResumeSchema,
  SetModeSchema,
  type ApproveArgs,
  type BatchInputArg,
  type BatchPreview,
  type BatchResult,
  type BatchStatus,
  type CancelArgs,
  type RejectArgs,
  type ResolveArgs,
  type RestartArgs,
  type ResumeArgs,
} from '../domain/batch';
import * as msg from '../domain/messages';
import type { ShipbatchConfig } from '../temporal.config';
import type { shipmentBatch } from '../workflows';
import { attentionBatches, type AttentionItem } from './attention';
import { batchIdFor, normalizeBatchId } from './batch-ids';
import { loadClientConfig, readDevState } from './config';
import { connectTemporal, DEFAULT_RPC_TIMEOUT_MS, taskQueuePollers } from './connection';
import { BatchInputError, BatchNotFoundError } from './errors';
import * as ledger from './ledger';
import { checkRowStatus } from './ledger';
import { openLedgerPool } from './ledger-pool';
import * as tracking from './tracking';
import { clientErrorOf } from './rpc-errors';
import { batchDetails, batchPageUrl, batchSummary } from './web-ui';
import { BATCH_WORKFLOW_TYPE, batchListQuery, summaryOf, type BatchSummary } from './visibility';

/** What `startBatch` returns (and `shipbatch start --json` prints). */
export interface StartedBatch {
  batchId: string;
  runId: string;
}

export interface StartOptions {
  /** Batch id (`batch-…`; a bare word gets the prefix). Default: from the name, else a short random id. */
  id?: string;
  /** Task queue; default the configured one. */
  taskQueue?: string;
}

function parseArgs<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new BatchInputError(`invalid ${what}: ${describeIssues(r.error)}`);
  return r.data;
}

/**
 * A connected client. Open with {@link ShipbatchClient.connect}; close with {@link close}. The ledger
 * pool opens on first use (commands that only talk to Temporal never touch PostgreSQL).
 */
export class ShipbatchClient {
  private poolPromise?: Promise<pg.Pool>;

  private constructor(
    readonly config: ShipbatchConfig,
    readonly connection: Connection,
    readonly temporal: Client,
    private readonly rpcTimeoutMs: number,
  ) {}

  /** Connect to Temporal from the configuration (default: `loadConfig()` plus a running `shipbatch dev`). */
  static async connect(
    opts: { config?: ShipbatchConfig; rpcTimeoutMs?: number } = {},
  ): Promise<ShipbatchClient> {
    const config = opts.config ?? loadClientConfig();
    const connection = await connectTemporal(config);
    const client = new Client({ connection, namespace: config.temporal.namespace });
    return new ShipbatchClient(config, connection, client, opts.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
  }

  /** The ledger's pool (PostgreSQL from the configuration). */
  pool(): Promise<pg.Pool> {
    this.poolPromise ??= openLedgerPool(this.config, { max: 3, applicationName: 'shipbatch-client' }).catch(
      (err: unknown) => {
        this.poolPromise = undefined;
        throw err;
      },
    );
    return this.poolPromise;
  }

  async close(): Promise<void> {
    const pool = this.poolPromise;
    this.poolPromise = undefined;
    if (pool) await pool.then((p) => p.end()).catch(() => undefined);
    await this.connection.close();
  }

  /**
   * Web UI page of a batch: on the running `shipbatch dev`'s UI, else on the embedded dev server's
   * configured UI port (for another Temporal, the path to append to its UI).
   */
  webUiUrl(batchId: string): string {
    const base = readDevState()?.uiUrl ?? `http://127.0.0.1:${this.config.temporal.devServer.uiPort}`;
    return batchPageUrl(base, this.config.temporal.namespace, batchId);
  }

  private handle(batchId: string): WorkflowHandle<typeof shipmentBatch> {
    return this.temporal.workflow.getHandle<typeof shipmentBatch>(normalizeBatchId(batchId));
  }

  /** Run an RPC with a deadline, mapping Temporal's errors to the client's. */
  private async rpc<T>(
    batchId: string,
    what: string,
    fn: () => Promise<T>,
    timeoutMs = this.rpcTimeoutMs,
  ): Promise<T> {
    try {
      return await this.connection.withAbortSignal(AbortSignal.timeout(timeoutMs), fn);
    } catch (err) {
      throw await this.mapError(batchId, what, err, timeoutMs);
    }
  }

  private mapError(batchId: string, what: string, err: unknown, timeoutMs: number): Promise<Error> {
    return clientErrorOf(this, batchId, what, err, timeoutMs);
  }

  /** True when a worker polls the task queue's workflow tasks. */
  async workerPolling(taskQueue: string = this.config.taskQueue): Promise<boolean> {
    return (await ShipbatchClient.pollers(this.temporal, this.config.temporal.namespace, taskQueue)) > 0;
  }

  /** Workers polling a task queue's workflow tasks (recently: the server keeps pollers for a minute). */
  static pollers(client: Client, namespace: string, taskQueue: string): Promise<number> {
    return taskQueuePollers(client, namespace, taskQueue);
  }

  // ---------------------------------------------------------------- start

  /**
   * Validate and start a batch. Throws BatchInputError for invalid input or a batch id already used
   * (ids are never reused: the ledger keys rows by batch id).
   */
  async startBatch(input: BatchInputArg, opts: StartOptions = {}): Promise<StartedBatch> {
    const parsed = parseArgs(BatchInputSchema, input, 'batch input');
    const batchId = opts.id ? normalizeBatchId(opts.id) : batchIdFor(parsed.name);
    const pool = await this.pool();
    if (await ledger.batchExists(pool, batchId)) {
      throw new BatchInputError(`batch id ${batchId} is already used by an earlier batch`, {
        fix: 'choose another --name or --id',
      });
    }
    try {
      const handle = await this.temporal.workflow.start<typeof shipmentBatch>(BATCH_WORKFLOW_TYPE, {
        taskQueue: opts.taskQueue ?? this.config.taskQueue,
        workflowId: batchId,
        args: [parsed],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: batchSummary(parsed, batchId),
        staticDetails: batchDetails(parsed),
      });
      return { batchId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new BatchInputError(`batch id ${batchId} is already used by an earlier batch`, {
          cause: err,
          fix: 'choose another --name or --id',
        });
      }
      throw await this.mapError(batchId, 'start', err, this.rpcTimeoutMs);
    }
  }

  // ---------------------------------------------------------------- read

  /** The `status` query. */
  async getBatch(batchId: string): Promise<BatchStatus> {
    const h = this.handle(batchId);
    return this.rpc(h.workflowId, 'status', () => h.query(msg.statusQuery));
  }

  /**
   * The `preview` query (null before the preview is ready), with recipients, cities and UPS's candidate
   * addresses merged back in from the ledger (the workflow never holds row data).
   */
  async getPreview(batchId: string): Promise<BatchPreview | null> {
    const h = this.handle(batchId);
    const preview = await this.rpc(h.workflowId, 'preview', () => h.query(msg.previewQuery));
    if (!preview) return null;
    const full = await ledger.readPreview(await this.pool(), h.workflowId);
    if (!full || full.previewHash !== preview.previewHash) return preview;
    const byRow = new Map(full.previewRows.map((r) => [r.rowNo, r]));
    return {
      ...preview,
      previewRows: preview.previewRows.map((r) => {
        const stored = byRow.get(r.rowNo);
        return {
          ...r,
          recipient: stored?.recipient ?? r.recipient,
          cityState: stored?.cityState ?? r.cityState,
          // UPS's candidate address is row data too: only the ledger's copy has it.
          ...(r.address && stored?.address ? { address: { ...r.address, ...stored.address } } : {}),
        };
      }),
    };
  }

  /** Wait for the batch's result (the workflow's return value). */
  async batchResult(batchId: string): Promise<BatchResult> {
    const h = this.handle(batchId);
    try {
      return await h.result();
    } catch (err) {
      throw await this.mapError(h.workflowId, 'result', err, this.rpcTimeoutMs);
    }
  }

  /** Temporal's description of the batch's latest run. */
  async describeBatch(batchId: string): Promise<WorkflowExecutionDescription> {
    const h = this.handle(batchId);
    return this.rpc(h.workflowId, 'describe', () => h.describe());
  }

  // ---------------------------------------------------------------- operations (Updates)

  private async update<A>(
    batchId: string,
    def: UpdateDefinition<BatchStatus, [A]>,
    args: A,
  ): Promise<BatchStatus> {
    const h = this.handle(batchId);
    return this.rpc(h.workflowId, def.name, () => h.executeUpdate(def, { args: [args] }));
  }

  /** Approve the preview (a stale `previewHash` is refused: BatchRefusedError). */
  approveBatch(batchId: string, args: ApproveArgs = {}): Promise<BatchStatus> {
    return this.update(batchId, msg.approveUpdate, parseArgs(ApproveSchema, args, 'approve arguments'));
  }

  rejectBatch(batchId: string, args: RejectArgs = {}): Promise<BatchStatus> {
    return this.update(batchId, msg.rejectUpdate, parseArgs(RejectSchema, args, 'reject arguments'));
  }

  /** Switch mode (`confirm`/`auto`, case-insensitive) until execution starts. */
  setBatchMode(batchId: string, mode: string): Promise<BatchStatus> {
    return this.update(batchId, msg.setModeUpdate, parseArgs(SetModeSchema, { mode }, 'mode'));
  }

  cancelBatch(batchId: string, args: CancelArgs = {}): Promise<BatchStatus> {
    return this.update(batchId, msg.cancelUpdate, parseArgs(CancelSchema, args, 'cancel arguments'));
  }

  restartBatch(batchId: string, args: RestartArgs = {}): Promise<BatchStatus> {
    return this.update(batchId, msg.restartUpdate, parseArgs(RestartSchema, args, 'restart arguments'));
  }

  resolveRow(batchId: string, args: ResolveArgs): Promise<BatchStatus> {
    return this.update(batchId, msg.resolveUpdate, parseArgs(ResolveSchema, args, 'resolve arguments'));
  }

  finishBatch(batchId: string): Promise<BatchStatus> {
    return this.update(batchId, msg.finishUpdate, parseArgs(FinishSchema, {}, 'finish arguments'));
  }

  /**
   * Resume a batch waiting for UPS (`waiting_for_ups`), e.g. once refused credentials are fixed: shipping
   * starts again at once. Refused (BatchRefusedError) in any other phase.
   */
  resumeBatch(batchId: string, args: ResumeArgs = {}): Promise<BatchStatus> {
    return this.update(batchId, msg.resumeUpdate, parseArgs(ResumeSchema, args, 'resume arguments'));
  }

  // ---------------------------------------------------------------- lists and ledger

  /** Batches from visibility, newest first, optionally in one phase. */
  async listBatches(opts: { phase?: string; limit?: number } = {}): Promise<BatchSummary[]> {
    const query = batchListQuery(opts.phase);
    const out: BatchSummary[] = [];
    const limit = opts.limit ?? 200;
    try {
      for await (const w of this.temporal.workflow.list({ query, pageSize: 100 })) {
        out.push(summaryOf(w));
        if (out.length >= limit) break;
      }
    } catch (err) {
      throw await this.mapError('(list)', 'list', err, this.rpcTimeoutMs);
    }
    return out;
  }

  /**
   * Open batches that need someone: awaiting approval or action, waiting for UPS (with the outage from
   * the batch's status), an activity retrying for long (`retryingAttempts` attempts or more), or no
   * worker polling the task queue.
   */
  attentionBatches(opts: { retryingAttempts?: number } = {}): Promise<AttentionItem[]> {
    return attentionBatches(this, opts);
  }

  /** Rows of a batch from the ledger, in row order (a page: `afterRowNo`, `limit`). */
  async batchRows(
    batchId: string,
    opts: { status?: string; afterRowNo?: number; limit?: number } = {},
  ): Promise<ledger.BatchRow[]> {
    const id = normalizeBatchId(batchId);
    const status = checkRowStatus(opts.status);
    const pool = await this.pool();
    if (!(await ledger.batchExists(pool, id))) throw new BatchNotFoundError(id);
    return ledger.readRows(pool, id, { ...opts, status });
  }

  /**
   * The rows the address check lists (`preview.addressCheck.rows`): each row's ShipTo address next to UPS's
   * answer (its candidates), from the ledger.
   */
  async addressCheckRows(batchId: string, rowNos: readonly number[]): Promise<ledger.AddressCheckRow[]> {
    const id = normalizeBatchId(batchId);
    return ledger.readAddressChecks(await this.pool(), id, rowNos);
  }

  /**
   * Every row of a batch in row order, read `pageSize` (default 1,000) at a time with a keyset cursor:
   * memory stays at one page however large the batch.
   */
  async *allBatchRows(
    batchId: string,
    opts: { status?: string; pageSize?: number } = {},
  ): AsyncGenerator<ledger.BatchRow> {
    const id = normalizeBatchId(batchId);
    checkRowStatus(opts.status);
    yield* ledger.batchRowStream(await this.pool(), id, opts);
  }

  /** Labels of the batch's shipped rows, in row then package order. */
  async *batchLabels(batchId: string): AsyncGenerator<ledger.BatchLabel> {
    const id = normalizeBatchId(batchId);
    const pool = await this.pool();
    if (!(await ledger.batchExists(pool, id))) throw new BatchNotFoundError(id);
    yield* ledger.readLabels(pool, id);
  }

  // ---------------------------------------------------------------- tracking (after the label)

  /**
   * The batch's tracking (issue 25): packages per status, exceptions, phase, deadline, next look, from its
   * tracking workflow's query (its result once ended; see {@link tracking.BatchTracking}). No tracking (still
   * open, nothing shipped, `trackFor: '0s'`): TrackingNotFoundError saying why; unknown: BatchNotFoundError.
   */
  getTracking(batchId: string): Promise<tracking.BatchTracking> {
    return tracking.readTracking(this, batchId, this.rpcTimeoutMs);
  }

  /** The batch's packages (optionally of one tracking status) from the ledger, in row order, a page at a time. */
  async *trackingPackages(
    batchId: string,
    opts: { status?: string; pageSize?: number } = {},
  ): AsyncGenerator<tracking.TrackedPackage> {
    const id = normalizeBatchId(batchId);
    const status = tracking.checkTrackingStatus(opts.status);
    const pool = await this.pool();
    if (!(await ledger.batchExists(pool, id))) throw new BatchNotFoundError(id);
    yield* tracking.streamTrackedPackages(pool, id, { status, pageSize: opts.pageSize });
  }

  /** Batches whose packages are in exception, with the first `limit` (default 20) of them (tracking.ts). */
  trackingExceptions(opts: tracking.ExceptionsOptions = {}): Promise<tracking.TrackingExceptions[]> {
    return tracking.trackingExceptions(this, { ...opts, timeoutMs: this.rpcTimeoutMs });
  }

  /** Row counts straight from the ledger (no worker needed). */
  async ledgerCounts(batchId: string): ReturnType<typeof ledger.readCounts> {
    const id = normalizeBatchId(batchId);
    const pool = await this.pool();
    if (!(await ledger.batchExists(pool, id))) throw new BatchNotFoundError(id);
    return ledger.readCounts(pool, id);
  }
}

// Tests import the attention item from here too.
export type { AttentionItem };
