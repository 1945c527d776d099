/**
 * The four batch tools an AI agent drives shipbatch with: thin wrappers over the typed client
 * (`client/`). The workflow decides everything (approval, mode lock, restart scope); these tools only
 * check their arguments, call the client and phrase the answer so an agent knows what to do next.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  BatchInputError,
  BatchNotFoundError,
  BatchRefusedError,
  ConnectionError,
  ShipbatchError,
  normalizeBatchId,
  type AttentionItem,
  type BatchPreview,
  type BatchStatus,
  type RowCounts,
  type ShipbatchClient,
  type UpsOutage,
} from '../client/index';
import {
  MAX_FILTER_CHARS,
  MAX_TEMPLATE_CHARS,
  ModeSchema,
  TableNameSchema,
  describeIssues,
  emptyCounts,
  FINAL_PHASES,
} from '../domain/batch';
import * as msg from '../domain/messages';
import type { BatchPhase } from '../domain/row-status';
import { ShipperSchema } from '../domain/shipment-schema';
import type { TableName } from '../activities/source/identifiers';
import { checkPreviewInputs } from './checks';
import { ToolError } from './errors';
import { splitTableName, tableText } from './sources';

export { ToolError };

/** Who approves and cancels, as recorded in the batch's status and history. */
const ACTOR = 'shipbatch-mcp';

/** What the tools allow, and their tuning (tests shorten the waits). */
export interface ToolOptions {
  /**
   * Whether an agent may choose auto mode (the batch ships right after its preview, with no approval).
   * Default false: refused with a message naming `--allow-auto`.
   */
  allowAuto?: boolean;
  /** The tables `source_table` may name; undefined (default): the tables `shipbatch import` made. */
  tables?: readonly TableName[];
  /** Longest wait of `batch_preview` for the preview (below MCP clients' usual 60 s request timeout). */
  previewWaitMs?: number;
  /** Status polling interval while waiting. */
  pollMs?: number;
}

/** The options with their defaults filled in. */
type Settings = Required<Omit<ToolOptions, 'tables'>> & Pick<ToolOptions, 'tables'>;

/** A tool's answer: JSON text for the agent, or an actionable error. */
export interface ToolAnswer {
  [key: string]: unknown;
  isError?: boolean;
  content: { type: 'text'; text: string }[];
}

const JobId = z
  .string()
  .min(1)
  .max(80)
  .describe('The batch id (`batch-…`; a bare word gets the `batch-` prefix), as batch_preview returned it.');

const PreviewArgs = z
  .object({
    job_id: JobId.optional().describe(
      'Reuse this batch: if it exists, its preview is returned and the other arguments are ignored; if not, the batch is started under this id. Omit to start a new batch with a generated id.',
    ),
    source_table: z
      .string()
      // `"Orders"` is the table Orders, as `Orders` is: quotes are taken off well-formed names.
      .transform((t) => {
        const name = splitTableName(t);
        return name ? tableText(name) : t;
      })
      .pipe(TableNameSchema)
      .describe(
        'PostgreSQL table holding one order per row (plain identifier, e.g. orders or public.orders; names are case-sensitive); key column `id`. Only the tables this server allows (by default those `shipbatch import` made).',
      ),
    filter_clause: z
      .string()
      .max(MAX_FILTER_CHARS)
      .optional()
      .describe(
        "SQL boolean expression over the table's columns selecting the rows, e.g. state = 'TX' AND weight_oz < 50. Columns, literals, operators, IN, BETWEEN, LIKE, IS NULL only; no subqueries.",
      ),
    mapping_template: z
      .string()
      .min(1, { error: 'mapping_template is empty' })
      .max(MAX_TEMPLATE_CHARS)
      .describe(
        'Nunjucks template rendering one row (variable `row`) into the JSON `Shipment` of a UPS ShipmentRequest (ShipTo, Package, Service…).',
      ),
    shipper_info: ShipperSchema.describe(
      'The UPS Shipper object: Name, ShipperNumber (6 characters), Address {AddressLine[], City, StateProvinceCode, PostalCode, CountryCode}, optional AttentionName and Phone.Number.',
    ),
    mode: ModeSchema.optional().describe(
      '"confirm" (default: the batch waits for batch_execute with approved: true) or "auto" (ships right after the preview, without approval; refused unless the server runs with --allow-auto). Case-insensitive.',
    ),
  })
  .strict();

const ExecuteArgs = z
  .object({
    job_id: JobId,
    approved: z
      .boolean()
      .optional()
      .describe(
        'true once the user approved the preview; required in confirm mode (the approval carries the current previewHash, so a changed preview is refused).',
      ),
    wait_seconds: z
      .number()
      .int()
      .min(0)
      .max(50)
      .optional()
      .describe(
        'Wait up to this many seconds for execution to end before answering (default 0: answer at once). Call again to poll the status.',
      ),
  })
  .strict();

const SetModeArgs = z
  .object({
    job_id: JobId,
    mode: ModeSchema.describe(
      '"confirm" or "auto" (case-insensitive). Refused once the batch executes; "auto" is refused unless the server runs with --allow-auto.',
    ),
  })
  .strict();

const RESUME_CHOICES = ['resume', 'restart', 'cancel'] as const;
const ResumeArgs = z
  .object({
    job_id: JobId.optional().describe(
      'The batch to act on (required with choice); without choice, limits the list to this batch.',
    ),
    choice: z
      .enum(RESUME_CHOICES, { error: 'choice must be "resume", "restart" or "cancel"' })
      .optional()
      .describe(
        'Omit to list the batches needing attention with a recovery prompt each. resume: for a batch waiting for UPS whose credentials UPS refused, send `resume` once they are fixed (shipping starts again at once); a batch waiting for UPS otherwise resumes by itself (nothing is sent); for any other batch, report what happens once a worker runs (changes nothing). restart: ship again the failed (else needs-review) rows, never a shipped one; cancel: stop the batch, no new shipments.',
      ),
  })
  .strict();

/** One tool: name, description, argument schema and handler. */
interface ToolDef<S extends z.ZodType> {
  name: string;
  description: string;
  /** MCP hints for clients that ask the user before consequential calls. */
  annotations: { title: string; readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean };
  schema: S;
  run(client: ShipbatchClient, args: z.output<S>, opts: Settings): Promise<unknown>;
}

function tool<S extends z.ZodType>(def: ToolDef<S>): ToolDef<S> {
  return def;
}

/** The tools in the order they are listed. */
export const TOOLS = [
  tool({
    name: 'batch_preview',
    // Destructive: in auto mode (when the server allows it) the batch ships right after the preview.
    annotations: {
      title: 'Preview a shipment batch',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
    },
    description:
      'Start a UPS shipment batch over the rows of an allowed table (or reuse job_id) and return its cost preview: rows total/valid/invalid, the first rows rated in detail, the total estimate and previewHash. Nothing ships in confirm mode until batch_execute with approved: true; auto mode ships at once and is refused unless the server allows it. When UPS rated no row (down, or the credentials refused) the answer has preview: null, phase waiting_for_ups, the upsOutage and the next step.',
    schema: PreviewArgs,
    run: batchPreview,
  }),
  tool({
    name: 'batch_execute',
    annotations: {
      title: 'Ship a previewed batch',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    },
    description:
      'Ship a previewed batch. In confirm mode requires approved: true (after the user saw the preview); in auto mode the batch already proceeds. Returns the batch status (phase, row counts, cost); call again (optionally with wait_seconds) to follow progress.',
    schema: ExecuteArgs,
    run: batchExecute,
  }),
  tool({
    name: 'batch_set_mode',
    // Destructive: switching a previewed batch to auto ships it without approval.
    annotations: {
      title: 'Switch confirm/auto mode',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    },
    description:
      'Switch a batch between "confirm" and "auto" (case-insensitive) before it executes; refused once execution started. Auto ships a previewed batch at once, without approval, and is refused unless the server allows it. Returns the status.',
    schema: SetModeArgs,
    run: batchSetMode,
  }),
  tool({
    name: 'batch_resume',
    annotations: {
      title: 'Batches needing attention; resume, restart or cancel',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
    },
    description:
      'Without choice: list the batches that need attention (awaiting approval or action, waiting for UPS, activities retrying, no worker polling) with a recovery prompt each: rows done, remaining, last error, the UPS outage (reason, since, next probe, whether the operator must fix the credentials), the choices and what each does. With job_id and choice: perform it (resume, restart, cancel). resume on a batch waiting for UPS after refused credentials sends `resume` (ask the user to fix the credentials first); one waiting for UPS otherwise resumes by itself when UPS answers.',
    schema: ResumeArgs,
    run: batchResume,
  }),
] as const;

/** JSON Schema of a tool's arguments (what the agent sees in tools/list). */
export function inputSchemaOf(schema: z.ZodType): { type: 'object'; [k: string]: unknown } {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return { ...json, type: 'object' };
}

/** Run a tool by name; every failure becomes an MCP tool error the agent can act on. */
export async function callTool(
  client: () => Promise<ShipbatchClient>,
  name: string,
  rawArgs: unknown,
  options: ToolOptions = {},
): Promise<ToolAnswer> {
  const def = TOOLS.find((t) => t.name === name);
  if (!def) {
    return errorAnswer(
      `unknown tool ${JSON.stringify(name.slice(0, 100))}; use one of ${TOOLS.map((t) => t.name).join(', ')}`,
    );
  }
  const parsed = (def.schema as z.ZodType).safeParse(rawArgs ?? {});
  if (!parsed.success) return errorAnswer(`invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
  const opts: Settings = { allowAuto: false, previewWaitMs: 45_000, pollMs: 500, ...options };
  try {
    const c = await client();
    const result = await (def.run as (c: ShipbatchClient, a: unknown, o: typeof opts) => Promise<unknown>)(
      c,
      parsed.data,
      opts,
    );
    return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }] };
  } catch (err) {
    return errorAnswer(`${name}: ${describeError(err)}`);
  }
}

function errorAnswer(text: string): ToolAnswer {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** The client's typed errors in words an agent can act on (the `fix` included). */
function describeError(err: unknown): string {
  if (err instanceof ToolError) return err.message;
  if (err instanceof BatchNotFoundError) return `job_id: ${err.message}; ${err.fix ?? ''}`.trim();
  if (err instanceof BatchRefusedError) return `refused by batch ${err.batchId}: ${err.reason}`;
  if (err instanceof ShipbatchError) {
    // The client names batch-input fields as the workflow does; say them as this tool's arguments.
    const text = err instanceof BatchInputError ? argumentNames(err.message) : err.message;
    const prefix = err instanceof ConnectionError ? 'shipbatch is unreachable: ' : '';
    return `${prefix}${text}${err.fix ? ` (${err.fix})` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function argumentNames(text: string): string {
  return text
    .replace(/\bsource\.table\b/g, 'source_table')
    .replace(/\bsource\.filter\b/g, 'filter_clause')
    .replace(/\binvalid batch id\b/g, 'job_id: invalid batch id')
    .replace(/(^|[\s;:])template:/g, '$1mapping_template:')
    .replace(/(^|[\s;:])shipper\./g, '$1shipper_info.');
}

/** Auto mode ships without the user's approval: only when the operator allowed it. */
function checkMode(mode: string | undefined, opts: Settings): void {
  if (mode !== 'auto' || opts.allowAuto) return;
  throw new ToolError(
    'mode: auto mode is not allowed by this server: it ships without the user approving the preview. ' +
      'Use confirm mode (the default) and call batch_execute with approved: true once the user approved the preview. ' +
      'The operator can allow auto mode by starting shipbatch-mcp with --allow-auto.',
  );
}

function jobIdOf(raw: string): string {
  try {
    return normalizeBatchId(raw);
  } catch (err) {
    throw new ToolError(`job_id: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Phases in which the preview is not there yet. */
const BEFORE_PREVIEW: ReadonlySet<BatchPhase> = new Set(['loading', 'previewing']);

/** The batch's task queue and whether a worker polls it (queries and Updates need one). */
async function workerState(
  client: ShipbatchClient,
  id: string,
): Promise<{ taskQueue: string; polling: boolean; closed?: string }> {
  const d = await client.describeBatch(id);
  const polling = await client.workerPolling(d.taskQueue);
  return { taskQueue: d.taskQueue, polling, closed: d.status.name === 'RUNNING' ? undefined : d.status.name };
}

function noWorker(id: string, taskQueue: string): ToolError {
  return new ToolError(
    `no worker polls task queue ${taskQueue}, so batch ${id} cannot answer yet; it waits durably. ` +
      `Start a worker (\`shipbatch worker\`, or \`shipbatch dev\`), then call this tool again with job_id "${id}"; batch_resume shows what needs attention.`,
  );
}

// ---------------------------------------------------------------- batch_preview

async function batchPreview(
  client: ShipbatchClient,
  args: z.output<typeof PreviewArgs>,
  opts: Settings,
): Promise<unknown> {
  checkMode(args.mode, opts);
  let id: string | undefined;
  let reused = false;
  if (args.job_id !== undefined) {
    id = jobIdOf(args.job_id);
    reused = await client.describeBatch(id).then(
      () => true,
      (err: unknown) => {
        if (err instanceof BatchNotFoundError) return false;
        throw err;
      },
    );
  }
  if (!reused) {
    // A blank filter means every row, as an omitted one.
    const filter = args.filter_clause?.trim() ? args.filter_clause : undefined;
    const table = await checkPreviewInputs(await client.pool(), {
      table: args.source_table,
      ...(filter !== undefined ? { filter } : {}),
      template: args.mapping_template,
      shipper: args.shipper_info,
      tables: opts.tables,
    });
    const started = await client.startBatch(
      {
        source: { table, ...(filter !== undefined ? { filter } : {}) },
        template: args.mapping_template,
        shipper: args.shipper_info,
        ...(args.mode ? { mode: args.mode } : {}),
      },
      id ? { id } : {},
    );
    id = started.batchId;
  }
  const batchId = id!;
  const worker = await workerState(client, batchId);
  if (!worker.polling) throw noWorker(batchId, worker.taskQueue);
  const deadline = Date.now() + opts.previewWaitMs;
  let status = await client.getBatch(batchId);
  while (BEFORE_PREVIEW.has(status.phase) && Date.now() < deadline) {
    // A batch that failed to load (table dropped meanwhile, filter refused…) stays "loading" in its status.
    const failure = await closedWithout(client, batchId);
    if (failure) throw new ToolError(`batch ${batchId} ${argumentNames(failure)}`);
    await sleep(opts.pollMs);
    status = await client.getBatch(batchId);
  }
  if (BEFORE_PREVIEW.has(status.phase)) {
    throw new ToolError(
      `the preview of batch ${batchId} is not ready after ${Math.round(opts.previewWaitMs / 1000)}s (phase ${status.phase}, ${status.counts.total} rows loaded); call batch_preview again with job_id "${batchId}"`,
    );
  }
  const preview: BatchPreview | null = await client.getPreview(batchId);
  if (!preview && status.phase === 'waiting_for_ups') {
    // UPS rated no row (down, or the credentials refused): no $0.00 estimate; the preview follows.
    return {
      job_id: batchId,
      reused,
      phase: status.phase,
      mode: status.mode,
      preview: null,
      ...(status.upsOutage ? { upsOutage: status.upsOutage } : {}),
      next_step: nextStep(batchId, status),
    };
  }
  if (!preview) {
    throw new ToolError(
      `batch ${batchId} ended ${status.phase} without a preview${status.error ? `: ${argumentNames(status.error)}` : ''}` +
        (status.counts.total === 0 ? ' (no row matched source_table/filter_clause)' : ''),
    );
  }
  return {
    job_id: batchId,
    reused,
    phase: status.phase,
    mode: status.mode,
    ...preview,
    next_step: nextStep(batchId, status),
  };
}

/** Why the batch closed before its preview, or undefined while it runs. */
async function closedWithout(client: ShipbatchClient, id: string): Promise<string | undefined> {
  const d = await client.describeBatch(id);
  if (d.status.name === 'RUNNING') return undefined;
  try {
    await client.temporal.workflow.getHandle(id).result();
    return `ended (${d.status.name}) without a preview`;
  } catch (err) {
    // The innermost cause is the activity's own words (e.g. the filter parser's).
    let e: unknown = err;
    while (e instanceof Error && e.cause instanceof Error) e = e.cause;
    return `failed (${d.status.name}) without a preview: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function nextStep(id: string, s: BatchStatus): string {
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
function upsNextStep(id: string, s: BatchStatus): string {
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

function probesText(o: UpsOutage): string {
  return `${o.probes} probe(s) so far, ${o.nextProbeAt ? `next at ${o.nextProbeAt}` : 'one running now'}`;
}

// ---------------------------------------------------------------- batch_execute

async function batchExecute(
  client: ShipbatchClient,
  args: z.output<typeof ExecuteArgs>,
  opts: Settings,
): Promise<unknown> {
  const id = jobIdOf(args.job_id);
  const worker = await workerState(client, id);
  if (!worker.polling) throw noWorker(id, worker.taskQueue);
  let status = await client.getBatch(id);
  if (BEFORE_PREVIEW.has(status.phase)) {
    throw new ToolError(
      `batch ${id} has no preview yet (phase ${status.phase}); call batch_preview with job_id "${id}" first`,
    );
  }
  if (status.phase === 'awaiting_approval') {
    if (args.approved !== true) {
      throw new ToolError(
        `Preview approval required in CONFIRM mode: show the preview (batch_preview with job_id "${id}") to the user, then call batch_execute with approved: true once they agree.`,
      );
    }
    // The current hash: an approval of a preview that changed meanwhile is refused by the workflow.
    const previewHash = status.previewHash ?? (await client.getPreview(id))?.previewHash;
    status = await client.approveBatch(id, { ...(previewHash ? { previewHash } : {}), by: ACTOR });
  }
  const deadline = Date.now() + (args.wait_seconds ?? 0) * 1000;
  while ((status.phase === 'executing' || status.phase === 'awaiting_approval') && Date.now() < deadline) {
    await sleep(opts.pollMs);
    status = await client.getBatch(id);
  }
  return { job_id: id, ...status, next_step: nextStep(id, status) };
}

// ---------------------------------------------------------------- batch_set_mode

async function batchSetMode(
  client: ShipbatchClient,
  args: z.output<typeof SetModeArgs>,
  opts: Settings,
): Promise<unknown> {
  checkMode(args.mode, opts);
  const id = jobIdOf(args.job_id);
  const worker = await workerState(client, id);
  if (!worker.polling) throw noWorker(id, worker.taskQueue);
  const status = await client.setBatchMode(id, args.mode);
  return { job_id: id, ...status, next_step: nextStep(id, status) };
}

// ---------------------------------------------------------------- batch_resume

interface Choice {
  choice: (typeof RESUME_CHOICES)[number];
  effect: string;
}

function choicesFor(item: AttentionItem): Choice[] {
  const out: Choice[] = [];
  const restartable = item.counts.failed + item.counts.needsReview > 0;
  const cancel: Choice = {
    choice: 'cancel',
    effect:
      'Stop the batch: nothing new ships, rows in flight settle, pending and failed rows become cancelled; shipped rows stay shipped.' +
      (item.reason === 'no_worker' ? ' Recorded now, applied once a worker runs.' : ''),
  };
  switch (item.reason) {
    case 'no_worker':
      out.push({
        choice: 'resume',
        effect: `Start a worker on task queue ${item.taskQueue} (\`shipbatch worker\` or \`shipbatch dev\`): the batch continues where it stopped (${phaseText(item.phase)}); shipped rows are never shipped again.`,
      });
      if (restartable && item.phase === 'awaiting_action') {
        out.push({
          choice: 'restart',
          effect: restartEffect(item.counts) + ' Recorded now, applied once a worker runs.',
        });
      }
      break;
    case 'awaiting_approval':
      out.push({
        choice: 'resume',
        effect:
          'Nothing runs by itself: the batch waits for approval. Review it with batch_preview, then batch_execute with approved: true.',
      });
      break;
    case 'awaiting_action':
      out.push({
        choice: 'resume',
        effect:
          'Nothing runs by itself: the batch waits for restart or cancel (or `shipbatch finish` to close it leaving failed rows as they are).',
      });
      if (restartable) out.push({ choice: 'restart', effect: restartEffect(item.counts) });
      break;
    case 'waiting_for_ups':
      out.push({
        choice: 'resume',
        effect:
          item.upsOutage?.needsOperator === false
            ? `Nothing to do: the batch probes UPS (${probesText(item.upsOutage)}) and resumes by itself when UPS answers; resume sends nothing.`
            : 'UPS refused the credentials: once the user has fixed them (the UPS credentials of the shipbatch worker), resume sends `resume` and shipping starts again at once; rows not yet sent stay pending, none ships twice.',
      });
      break;
    case 'retrying':
      out.push({
        choice: 'resume',
        effect:
          'Let it be: Temporal retries the failing call with backoff and the batch goes on when it succeeds.',
      });
      break;
  }
  out.push(cancel);
  return out;
}

function restartEffect(c: RowCounts): string {
  return c.failed > 0
    ? `Ship again the ${c.failed} failed row(s) (scope failed); shipped rows are never shipped again.`
    : `Retry the ${c.needsReview} row(s) needing review (scope needs_review): each is looked up at UPS first, so none ships twice.`;
}

/** A batch no worker ever ran has no phase search attribute yet. */
function phaseText(phase: string | undefined): string {
  return phase ? `phase ${phase}` : 'not yet loaded by a worker';
}

const REASON_TEXT: Record<AttentionItem['reason'], string> = {
  no_worker: 'is interrupted: no worker polls its task queue',
  awaiting_approval: 'waits for approval of its preview',
  awaiting_action: 'waits for action: rows failed or need review',
  waiting_for_ups: 'waits for UPS: shipping is paused',
  retrying: 'is stalled: a call keeps failing and is being retried',
};

function outageText(o: UpsOutage): string {
  return (
    `UPS outage: ${o.reason} since ${o.since}, ${probesText(o)}; ` +
    (o.needsOperator
      ? 'the operator must fix the credentials, then resume.'
      : 'it resumes by itself when UPS answers.')
  );
}

function promptFor(item: AttentionItem, choices: Choice[]): string {
  return [
    `Batch ${item.batchId} (${phaseText(item.phase)}) ${REASON_TEXT[item.reason]}.`,
    ...(item.upsOutage ? [outageText(item.upsOutage)] : []),
    `${item.done} row(s) done (shipped ${item.counts.shipped}, failed ${item.counts.failed}, invalid ${item.counts.invalid}, cancelled ${item.counts.cancelled}), ${item.remaining} remaining (pending ${item.counts.pending}, in flight ${item.counts.inFlight}, needs review ${item.counts.needsReview}).`,
    `Last error: ${item.lastError ?? 'none'}.`,
    `Choices (batch_resume with job_id and choice): ${choices.map((c) => `${c.choice}: ${c.effect}`).join(' | ')}`,
  ].join(' ');
}

async function batchResume(client: ShipbatchClient, args: z.output<typeof ResumeArgs>): Promise<unknown> {
  const id = args.job_id === undefined ? undefined : jobIdOf(args.job_id);
  if (args.choice === undefined) {
    const items = (await client.attentionBatches()).filter((b) => id === undefined || b.batchId === id);
    return {
      count: items.length,
      batches: items.map((item) => {
        const choices = choicesFor(item);
        return {
          job_id: item.batchId,
          phase: item.phase ?? null,
          reason: item.reason,
          rows_done: item.done,
          rows_remaining: item.remaining,
          counts: item.counts,
          last_error: item.lastError,
          ...(item.upsOutage ? { ups_outage: item.upsOutage } : {}),
          choices,
          prompt: promptFor(item, choices),
        };
      }),
      ...(items.length === 0
        ? { note: id ? `batch ${id} needs no attention` : 'no batch needs attention' }
        : {}),
    };
  }
  if (id === undefined) throw new ToolError(`job_id: required with choice "${args.choice}"`);
  const worker = await workerState(client, id);
  if (worker.closed) {
    throw new ToolError(`batch ${id} is closed (${worker.closed}); nothing can resume, restart or cancel it`);
  }
  const counts = await client.ledgerCounts(id).then(
    (r) => r.counts,
    (err: unknown) => {
      // Not loaded yet (no worker ever ran it): no rows in the ledger.
      if (err instanceof BatchNotFoundError) return emptyCounts();
      throw err;
    },
  );
  const remaining = counts.pending + counts.inFlight + counts.needsReview;
  const rows = { rows_done: counts.total - remaining, rows_remaining: remaining, counts };
  switch (args.choice) {
    case 'resume': {
      if (worker.polling) {
        const status = await client.getBatch(id);
        if (status.phase === 'waiting_for_ups') return resumeWaiting(client, id, status, rows);
        return {
          job_id: id,
          choice: 'resume',
          worker_polling: true,
          phase: status.phase,
          ...rows,
          will_happen: FINAL_PHASES.has(status.phase)
            ? `nothing: the batch is ${status.phase}`
            : `a worker runs the batch now; ${nextStep(id, status)}`,
        };
      }
      return {
        job_id: id,
        choice: 'resume',
        worker_polling: false,
        ...rows,
        will_happen: `Once a worker polls task queue ${worker.taskQueue} (\`shipbatch worker\` or \`shipbatch dev\`), the batch continues from where it stopped: the ${rows.rows_done} settled row(s) stay as they are (shipped rows are never shipped again), rows that were in flight are checked against UPS before anything is retried, and the ${remaining} remaining row(s) go on. Nothing changed now.`,
      };
    }
    case 'restart': {
      if (counts.failed + counts.needsReview === 0) {
        throw new ToolError(
          `choice: nothing to restart in batch ${id}: no failed or needs-review rows (${rows.rows_done} done, ${remaining} remaining); use resume or cancel`,
        );
      }
      const scope = counts.failed > 0 ? 'failed' : 'needs_review';
      if (worker.polling) {
        const status = await client.restartBatch(id, { scope });
        return { job_id: id, choice: 'restart', scope, ...status, next_step: nextStep(id, status) };
      }
      await signal(client, id, () =>
        client.temporal.workflow.getHandle(id).signal(msg.restartSignal, { scope }),
      );
      return {
        job_id: id,
        choice: 'restart',
        scope,
        queued: true,
        will_happen: `restart (scope ${scope}) is recorded in the batch; it applies once a worker polls task queue ${worker.taskQueue}. If the batch is not waiting for action then, the refusal shows in its status (rejectedMessages).`,
      };
    }
    case 'cancel': {
      const reason = `cancelled through ${ACTOR}`;
      if (worker.polling) {
        const status = await client.cancelBatch(id, { reason });
        return { job_id: id, choice: 'cancel', ...status };
      }
      await signal(client, id, () =>
        client.temporal.workflow.getHandle(id).signal(msg.cancelSignal, { reason }),
      );
      return {
        job_id: id,
        choice: 'cancel',
        queued: true,
        ...rows,
        will_happen: `cancel is recorded in the batch; once a worker polls task queue ${worker.taskQueue} nothing new ships, rows in flight settle and the rest become cancelled.`,
      };
    }
  }
}

/**
 * `resume` on a batch waiting for UPS: the `resume` Update when the operator had to act (credentials
 * refused; the user fixed them), else nothing sent: the batch resumes by itself when a probe succeeds.
 */
async function resumeWaiting(
  client: ShipbatchClient,
  id: string,
  status: BatchStatus,
  rows: { rows_done: number; rows_remaining: number; counts: RowCounts },
): Promise<unknown> {
  const outage = status.upsOutage;
  if (outage && !outage.needsOperator) {
    return {
      job_id: id,
      choice: 'resume',
      worker_polling: true,
      phase: status.phase,
      ...rows,
      ups_outage: outage,
      sent: false,
      will_happen: `Nothing sent: ${outage.reason}, and the batch resumes by itself when UPS answers (${probesText(outage)}). Follow it with batch_execute {job_id: "${id}", wait_seconds: 30}.`,
    };
  }
  const after = await client.resumeBatch(id, { by: ACTOR });
  return {
    job_id: id,
    choice: 'resume',
    sent: true,
    ...(outage ? { resumed_from: outage } : {}),
    ...after,
    next_step:
      after.phase === 'waiting_for_ups'
        ? `UPS still refuses: ${after.upsOutage?.reason ?? 'no answer'}. ${upsNextStep(id, after)}`
        : nextStep(id, after),
  };
}

/**
 * A signal when no worker polls: Updates need a worker to answer, a signal is recorded in the history
 * at once and applied (or refused into rejectedMessages) when a worker runs.
 */
async function signal(client: ShipbatchClient, id: string, send: () => Promise<void>): Promise<void> {
  try {
    await client.connection.withAbortSignal(AbortSignal.timeout(10_000), send);
  } catch (err) {
    throw err instanceof Error && err.name === 'WorkflowNotFoundError'
      ? new BatchNotFoundError(id, { cause: err })
      : err;
  }
}

/** For tests and docs: the tools' names. */
export const TOOL_NAMES = TOOLS.map((t) => t.name);
