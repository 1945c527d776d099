/**
 * The typed client of shipbatch (docs/design.md §9): start batches, read their status and preview, send the
 * operations as Updates (a refusal is a {@link BatchRefusedError} with the workflow's reason), list them
 * through visibility and read rows and labels from the ledger. Every input is validated with the
 * contract's zod schemas before anything is sent.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type UpdateDefinition,
} from '@temporalio/common';
import proto from '@temporalio/proto';
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
  type BatchInput,
  type BatchInputArg,
  type BatchPreview,
  type BatchResult,
  type BatchStatus,
  type CancelArgs,
  type RejectArgs,
  type ResolveArgs,
  type RestartArgs,
  type ResumeArgs,
  type RowCounts,
  type UpsOutage,
} from '../domain/batch';
import * as msg from '../domain/messages';
import { rowsDone, rowsRemaining } from '../domain/row-counts';
import { BATCH_PHASES, type BatchPhase } from '../domain/row-status';
import { SHIP_BATCH_MODE, SHIP_BATCH_PHASE, SHIP_BATCH_ROWS } from '../domain/search-attributes';
import { openPool } from '../activities/db';
import type { ShipbatchConfig } from '../temporal.config';
import type { shipmentBatch } from '../workflows';
import { loadClientConfig, readDevState } from './config';
import {
  BatchInputError,
  BatchNotFoundError,
  BatchRefusedError,
  ConnectionError,
  ShipbatchError,
} from './errors';
import * as ledger from './ledger';
import { checkRowStatus, normalizeBatchId } from './ledger';

const { temporal } = proto; // CommonJS package: named ESM imports are not available

/** Workflow type name of a batch (the function name the worker registers). */
export const BATCH_WORKFLOW_TYPE = 'shipmentBatch';

/** How long a query or an Update may wait for a worker before the client gives up. */
const DEFAULT_RPC_TIMEOUT_MS = 20_000;

/** What `startBatch` returns (and `shipbatch start --json` prints). */
export interface StartedBatch {
  batchId: string;
  runId: string;
}

/** One batch as visibility lists it. */
export interface BatchSummary {
  batchId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  taskQueue: string;
  phase?: BatchPhase;
  mode?: string;
  rows?: number;
  startTime: string;
  closeTime?: string;
}

/** A batch that needs someone: waiting for approval, action or UPS, or stalled. */
export interface AttentionItem extends BatchSummary {
  /**
   * `awaiting_approval`, `awaiting_action`, `waiting_for_ups` (UPS does not answer or refused the
   * credentials), `retrying` (an activity keeps failing) or `no_worker`.
   */
  reason: 'awaiting_approval' | 'awaiting_action' | 'waiting_for_ups' | 'retrying' | 'no_worker';
  /**
   * Rows done (shipped, failed, invalid, cancelled, voided) and remaining (pending, in flight, needs review:
   * a row needing review waits for an operator, so it is not done); see domain/row-counts.ts.
   */
  done: number;
  remaining: number;
  counts: RowCounts;
  lastError: string | null;
  /**
   * With `waiting_for_ups`: why, since when, the next probe, and whether an operator must act
   * (`needsOperator`: fix the credentials, then `shipbatch resume ID`; otherwise it resumes by itself).
   * Absent when the batch's status could not be read.
   */
  upsOutage?: UpsOutage;
  /** Commands that would move it on. */
  choices: string[];
}

export interface StartOptions {
  /** Batch id (`batch-…`; a bare word gets the prefix). Default: from the name, else a short random id. */
  id?: string;
  /** Task queue; default the configured one. */
  taskQueue?: string;
}

/** Slug of a batch name usable in a workflow id: `Spring sale #2` → `spring-sale-2`. */
export function batchIdFor(name: string | undefined): string {
  const slug = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 48)
    .replace(/[-.]+$/, '');
  return `batch-${slug || randomUUID().slice(0, 8)}`;
}

// A user's batch id, checked (`x` → `batch-x`): in ledger.ts, which commands reading only the ledger use
// without loading the Temporal client.
export { normalizeBatchId };

/** Markdown-safe text (names come from user files). */
function mdText(s: string): string {
  return s.replace(/[\\`*_[\]<>#|~]/g, (c) => `\\${c}`).replace(/\s+/g, ' ');
}

/** The Web UI's summary line (≤ 200 bytes): rows are unknown at start, so it names the source. */
export function batchSummary(input: BatchInput, batchId: string): string {
  const line = `Batch ${input.name ?? batchId}: ${input.source.table}, ${input.mode}`;
  if (Buffer.byteLength(line) <= 200) return line;
  const chars = Array.from(line); // whole code points: never half a character
  while (Buffer.byteLength(`${chars.join('')}…`) > 200) chars.pop();
  return `${chars.join('')}…`;
}

/** The Web UI's details (markdown): source, filter, shipper, options. */
export function batchDetails(input: BatchInput): string {
  const filter = input.source.filter;
  // A fence longer than any backtick run in the filter, so the filter cannot close it.
  const fence = '`'.repeat(Math.max(3, ...[...(filter ?? '').matchAll(/`+/g)].map((m) => m[0].length + 1)));
  const o = input.options;
  return [
    `**Source** \`${input.source.table}\` (key \`${input.source.keyColumn}\`)`,
    filter ? `**Filter**\n${fence}sql\n${filter}\n${fence}` : '**Filter** none (every row)',
    `**Shipper** ${mdText(input.shipper.Name)} (${mdText(input.shipper.ShipperNumber)})`,
    `**Mode** ${input.mode}; preview ${o.rateAll ? 'all rows' : `${o.previewRows} rows`}; concurrency ${o.concurrency}; labels ${o.labelFormat}`,
  ].join('\n\n');
}

function parseArgs<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new BatchInputError(`invalid ${what}: ${describeIssues(r.error)}`);
  return r.data;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A gRPC/transport failure the user should read as "Temporal is unreachable". */
function isUnavailable(err: unknown): boolean {
  const text = `${errText(err)} ${errText((err as { cause?: unknown })?.cause)}`;
  return /UNAVAILABLE|ECONNREFUSED|failed to connect|Connection refused|DEADLINE_EXCEEDED/i.test(text);
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
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...config.temporal.connection, connectTimeout: '5s' });
    } catch (err) {
      throw new ConnectionError(`Temporal at ${config.temporal.address} is unreachable: ${errText(err)}`, {
        cause: err,
        fix: config.temporal.embedded
          ? 'start the embedded stack with `shipbatch dev` (or `npm start` for the demo), or set TEMPORAL_ADDRESS'
          : 'check TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY',
      });
    }
    const client = new Client({ connection, namespace: config.temporal.namespace });
    return new ShipbatchClient(config, connection, client, opts.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
  }

  /** The ledger's pool (PostgreSQL from the configuration). */
  pool(): Promise<pg.Pool> {
    this.poolPromise ??= openPool({
      url: this.config.database.url,
      max: 3,
      applicationName: 'shipbatch-client',
    }).catch((err: unknown) => {
      this.poolPromise = undefined;
      throw new ConnectionError(errText(err), {
        cause: err,
        fix: this.config.database.embedded
          ? 'start the embedded stack with `shipbatch dev`, or set DATABASE_URL'
          : 'check that PostgreSQL runs and DATABASE_URL is right',
      });
    });
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
    const ns = encodeURIComponent(this.config.temporal.namespace);
    return `${base}/namespaces/${ns}/workflows/${encodeURIComponent(batchId)}`;
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

  private async mapError(batchId: string, what: string, err: unknown, timeoutMs: number): Promise<Error> {
    if (err instanceof ShipbatchError) return err;
    if (err instanceof WorkflowNotFoundError) {
      // The server answers an Update to a closed workflow with NOT_FOUND too: tell the two apart.
      const closed = await this.temporal.workflow
        .getHandle(batchId)
        .describe()
        .then((d) => (d.status.name === 'RUNNING' ? undefined : d.status.name))
        .catch(() => undefined);
      if (closed) {
        return new BatchRefusedError(
          batchId,
          what,
          `the batch is closed (${closed}); nothing can change it any more`,
          {
            cause: err,
          },
        );
      }
      return new BatchNotFoundError(batchId, { cause: err });
    }
    if (err instanceof WorkflowUpdateFailedError) {
      const reason = err.cause?.message ?? err.message;
      return new BatchRefusedError(batchId, what, reason, { cause: err });
    }
    const text = errText(err);
    if (/workflow execution already completed|already completed/i.test(text)) {
      return new BatchRefusedError(batchId, what, 'the batch is closed; nothing can change it any more', {
        cause: err,
      });
    }
    if (/abort|cancel|deadline/i.test(text) || (err as Error)?.name === 'AbortError') {
      // No answer in time: Updates and queries need a worker polling the batch's task queue.
      const polling = await this.workerPolling(this.config.taskQueue).catch(() => undefined);
      return new ConnectionError(
        `no answer to ${what} on ${batchId} within ${Math.round(timeoutMs / 1000)}s`,
        {
          cause: err,
          fix:
            polling === false
              ? `no worker polls task queue ${this.config.taskQueue}: start one with \`shipbatch worker\` (or run \`shipbatch dev\`)`
              : 'the worker may be busy or restarting; try again',
        },
      );
    }
    if (isUnavailable(err)) {
      return new ConnectionError(`Temporal at ${this.config.temporal.address} is unreachable: ${text}`, {
        cause: err,
      });
    }
    return err instanceof Error ? err : new Error(text);
  }

  /** True when a worker polls the task queue's workflow tasks. */
  async workerPolling(taskQueue: string = this.config.taskQueue): Promise<boolean> {
    return (await ShipbatchClient.pollers(this.temporal, this.config.temporal.namespace, taskQueue)) > 0;
  }

  /** Workers polling a task queue's workflow tasks (recently: the server keeps pollers for a minute). */
  static async pollers(client: Client, namespace: string, taskQueue: string): Promise<number> {
    const res = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return res.pollers?.length ?? 0;
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
   * The `preview` query (null before the preview is ready), with recipients and cities merged back in
   * from the ledger (the workflow never holds row data).
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
      previewRows: preview.previewRows.map((r) => ({
        ...r,
        recipient: byRow.get(r.rowNo)?.recipient ?? r.recipient,
        cityState: byRow.get(r.rowNo)?.cityState ?? r.cityState,
      })),
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
    // A long batch continues as new every couple of thousand rows: list each batch once (its latest run).
    const clauses = [`WorkflowType = '${BATCH_WORKFLOW_TYPE}'`, `ExecutionStatus != 'ContinuedAsNew'`];
    if (opts.phase !== undefined) {
      if (!(BATCH_PHASES as readonly string[]).includes(opts.phase)) {
        throw new BatchInputError(`unknown phase ${JSON.stringify(opts.phase)}`, {
          fix: `use one of ${BATCH_PHASES.join(', ')}`,
        });
      }
      // Safe to inline: checked against the fixed list just above.
      clauses.push(`${SHIP_BATCH_PHASE.name} = '${opts.phase}'`);
    }
    const out: BatchSummary[] = [];
    const limit = opts.limit ?? 200;
    try {
      for await (const w of this.temporal.workflow.list({ query: clauses.join(' AND '), pageSize: 100 })) {
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
  async attentionBatches(opts: { retryingAttempts?: number } = {}): Promise<AttentionItem[]> {
    const minAttempts = opts.retryingAttempts ?? 3;
    const open = (await this.listBatches({ limit: 500 })).filter((b) => b.status === 'RUNNING');
    if (open.length === 0) return [];
    const pool = await this.pool();
    // Per task queue: batches of other queues (other teams, tests) have workers of their own.
    const pollingByQueue = new Map<string, Promise<boolean>>();
    const polled = (queue: string) => {
      if (!pollingByQueue.has(queue))
        pollingByQueue.set(
          queue,
          this.workerPolling(queue).catch(() => true),
        );
      return pollingByQueue.get(queue)!;
    };
    const items: AttentionItem[] = [];
    for (const b of open) {
      let reason: AttentionItem['reason'] | undefined;
      let lastError: string | null = null;
      let upsOutage: UpsOutage | undefined;
      if (!(await polled(b.taskQueue))) reason = 'no_worker';
      else if (b.phase === 'awaiting_approval' || b.phase === 'awaiting_action') reason = b.phase;
      else if (b.phase === 'waiting_for_ups') {
        // Visibility has the phase; the reason, the next probe and who acts are in the batch's status.
        const s = await this.getBatch(b.batchId).catch(() => undefined);
        if (!s || s.phase === 'waiting_for_ups') {
          reason = 'waiting_for_ups';
          upsOutage = s?.upsOutage;
          if (upsOutage) lastError = upsOutage.reason;
        } else if (s.phase === 'awaiting_approval' || s.phase === 'awaiting_action') {
          reason = s.phase; // moved on since visibility was written
        }
      } else {
        const desc = await this.temporal.workflowService.describeWorkflowExecution({
          namespace: this.config.temporal.namespace,
          execution: { workflowId: b.batchId },
        });
        const stuck = (desc.pendingActivities ?? []).filter((a) => (a.attempt ?? 0) >= minAttempts);
        if (stuck.length > 0) {
          reason = 'retrying';
          const worst = stuck.reduce((a, c) => ((c.attempt ?? 0) > (a.attempt ?? 0) ? c : a));
          const name = worst.activityType?.name ?? 'activity';
          lastError = `${name} attempt ${worst.attempt ?? 0}: ${worst.lastFailure?.message ?? 'still failing'}`;
        }
      }
      if (!reason) continue;
      const { counts } = await ledger.readCounts(pool, b.batchId);
      lastError ??= await ledger.lastRowError(pool, b.batchId);
      items.push({
        ...b,
        reason,
        counts,
        done: rowsDone(counts),
        remaining: rowsRemaining(counts),
        lastError,
        ...(upsOutage ? { upsOutage } : {}),
        choices: choicesFor(reason, b.batchId, counts, upsOutage),
      });
    }
    return items;
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

  /** Row counts straight from the ledger (no worker needed). */
  async ledgerCounts(batchId: string): ReturnType<typeof ledger.readCounts> {
    const id = normalizeBatchId(batchId);
    const pool = await this.pool();
    if (!(await ledger.batchExists(pool, id))) throw new BatchNotFoundError(id);
    return ledger.readCounts(pool, id);
  }
}

function summaryOf(w: WorkflowExecutionInfo): BatchSummary {
  const sa = w.typedSearchAttributes;
  return {
    batchId: w.workflowId,
    runId: w.runId,
    status: w.status.name,
    taskQueue: w.taskQueue,
    phase: sa.get(SHIP_BATCH_PHASE) as BatchPhase | undefined,
    mode: sa.get(SHIP_BATCH_MODE),
    rows: sa.get(SHIP_BATCH_ROWS),
    startTime: w.startTime.toISOString(),
    closeTime: w.closeTime?.toISOString(),
  };
}

function choicesFor(
  reason: AttentionItem['reason'],
  id: string,
  counts: RowCounts,
  outage?: UpsOutage,
): string[] {
  switch (reason) {
    case 'awaiting_approval':
      return [
        `shipbatch preview ${id}`,
        `shipbatch approve ${id}`,
        `shipbatch reject ${id}`,
        `shipbatch cancel ${id}`,
      ];
    case 'awaiting_action': {
      const out: string[] = [];
      if (counts.failed > 0) out.push(`shipbatch restart ${id} --scope failed`);
      if (counts.needsReview > 0) {
        out.push(`shipbatch resolve ${id} --row N --tracking 1Z…`, `shipbatch resolve ${id} --row N --retry`);
      }
      out.push(`shipbatch finish ${id}`, `shipbatch cancel ${id}`);
      return out;
    }
    case 'waiting_for_ups':
      // Refused credentials wait for the operator; otherwise the batch resumes by itself when a probe
      // succeeds (`resume` would only try again at once).
      return outage?.needsOperator === false
        ? [`shipbatch status ${id}`, `shipbatch cancel ${id}`]
        : [`shipbatch resume ${id}`, `shipbatch status ${id}`, `shipbatch cancel ${id}`];
    case 'retrying':
      return [`shipbatch status ${id}`, `shipbatch cancel ${id}`];
    case 'no_worker':
      // Updates need a worker too: starting one is the way on (terminating loses nothing shipped, stops the rest).
      return [
        'start a worker on its task queue: shipbatch worker (or shipbatch dev)',
        `temporal workflow terminate --workflow-id ${id}`,
      ];
  }
}

export type { BatchRow, BatchLabel } from './ledger';
export type { BatchInput, BatchInputArg, BatchPhase };
