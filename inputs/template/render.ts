/**
 * Rows → validated UPS ShipmentRequest bodies (or the rows' errors), docs/design.md §4. A batch opens ONE renderer
 * (`openBatchRenderer`): a template isolate (isolate.ts) with the batch's template compiled in it; pages of
 * rows are rendered there, and here, in the host, each row's text is parsed, completed into the
 * request_body (Shipper, PaymentInformation, references, RequestOption, LabelSpecification: fields the
 * batch owns) and validated with zod. This file is the one place that completes and validates.
 */
import { newReferenceKey, rowReference } from '../../domain/reference';
import { templateError, zodIssuesToRowErrors, type RowError } from '../../domain/row-error';
import {
  ShipmentRequestBodySchema,
  type Shipper,
  type ShipmentRequestBody,
} from '../../domain/shipment-schema';
import { IsolateFailure, ISOLATE_MEMORY_MB, TemplateIsolate } from './isolate';
import type { SandboxLimits, SandboxRowResult } from './sandbox';

/** The batch as templates see it (`batch.id`, `batch.name`) and as the request needs it (label format). */
export interface BatchInfo {
  id: string;
  name?: string;
  labelFormat?: 'GIF' | 'ZPL';
  /**
   * The batch's reference key (domain/reference.ts), kept in the ledger. Not shown to templates. Tools that
   * only check a template leave it out and get a fixed placeholder key.
   */
  referenceKey?: string;
  [k: string]: unknown;
}

export type RenderResult = { ok: true; request: ShipmentRequestBody } | { ok: false; errors: RowError[] };

/** A row to render: its number (for errors and the reference) and its columns. */
export interface RowToRender {
  rowNo: number;
  data: Record<string, unknown>;
}

/** One batch's renderer: an isolate of its own, freed with `dispose`. */
export interface BatchRenderer {
  /** Render + complete + validate a page of rows; one RenderResult per row, same order. Never throws for a row's fault. */
  renderRows(rows: readonly RowToRender[]): Promise<RenderResult[]>;
  /** Free the isolate. Idempotent. */
  dispose(): void;
}

/** Largest template source accepted. */
export const MAX_TEMPLATE_CHARS = 64 * 1024;
/** Limits inside the isolate, per row. */
export const TEMPLATE_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  maxOutputChars: 128 * 1024,
  maxOperations: 100_000,
  maxRange: 10_000,
  maxDepth: 16,
  maxWidth: 1000,
  maxItems: 100_000,
});
/** Rows per isolate call. */
export const PAGE_ROWS = 250;
/** Wall-clock budget of one page call; on overrun the page's rows are rendered one by one. */
export const PAGE_TIMEOUT_MS = 500;
/** Wall-clock budget of one row. */
export const ROW_TIMEOUT_MS = 250;
/** Rows stopped (time or memory) or slow (over half the deadline) before the batch's template is given up. */
export const MAX_STOPPED_ROWS = 5;

function describe(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg
    .replace(/^\((unknown path|template)\)\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Whether JSON.parse fails on `text` only because the text ends too early. */
function incompleteOnly(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch (e) {
    const m = e instanceof Error ? e.message : '';
    return /end of JSON input|Unterminated string/i.test(m);
  }
}

/** Offset of the first bad character: from the engine's message, else by bisecting prefixes. */
function jsonErrorPosition(text: string, msg: string): number {
  const m = /position (\d+)/.exec(msg);
  if (m) return Number(m[1]);
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (incompleteOnly(text.slice(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A JSON.parse error with its "line L column C" position and the text around it. */
function jsonError(text: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const pos = jsonErrorPosition(text, msg);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  const short = msg.length > 80 ? `${msg.slice(0, 80)}…` : msg;
  return `${short} at line ${line} column ${col} (position ${pos}), near ${JSON.stringify(text.slice(Math.max(0, pos - 15), pos + 15))}`;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function refuseProtoKey(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SyntaxError('the key "__proto__" is not allowed');
  return value;
}

/**
 * Parse a row's rendered text, complete it into the request_body and validate it (docs/design.md §4). The batch
 * owns Shipper, PaymentInformation (unless `templateSetsPayer`), the reference numbers, RequestOption and
 * LabelSpecification: a template that sets Shipper (or, without the option, PaymentInformation) is refused
 * with a row error rather than silently overridden, so nobody believes a template bills another account.
 */
export function completeRequest(
  text: string,
  rowNo: number,
  shipper: Shipper,
  batch: BatchInfo,
  templateSetsPayer = false,
): RenderResult {
  let shipment: unknown;
  try {
    // A "__proto__" key (possibly spelled with \u escapes) would become an object's prototype later on.
    shipment = /__proto__|\\u/.test(text) ? JSON.parse(text, refuseProtoKey) : JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      errors: [
        templateError(rowNo, `template output is not valid JSON: ${jsonError(text, e)}`, 'template_json'),
      ],
    };
  }
  if (!isObj(shipment)) {
    return {
      ok: false,
      errors: [templateError(rowNo, 'template must render one JSON object (the Shipment)', 'template_json')],
    };
  }
  // Some templates wrap the Shipment: accept {Shipment: {...}} too.
  if (isObj(shipment['Shipment']) && !('ShipTo' in shipment)) shipment = shipment['Shipment'];
  const s = shipment as Record<string, unknown>;
  const owned: RowError[] = [];
  if (s['Shipper'] !== undefined)
    owned.push(
      templateError(
        rowNo,
        'the template must not set Shipper: it comes from the batch (remove "Shipper" from the template)',
        'template_owned_field',
        'Shipper',
      ),
    );
  if (s['PaymentInformation'] !== undefined && !templateSetsPayer)
    owned.push(
      templateError(
        rowNo,
        'the template must not set PaymentInformation: the batch bills its shipper unless it allows the ' +
          'template to set the payer (templateSetsPayer)',
        'template_owned_field',
        'PaymentInformation',
      ),
    );
  if (owned.length) return { ok: false, errors: owned };
  const reference = rowReference(batch.referenceKey ?? newReferenceKey(batch.id, () => 0), rowNo);
  s['Shipper'] = shipper;
  if (s['PaymentInformation'] === undefined) {
    s['PaymentInformation'] = {
      ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: shipper.ShipperNumber } }],
    };
  }
  if (isObj(s['Package'])) s['Package'] = [s['Package']];
  if (Array.isArray(s['Package'])) {
    for (const pkg of s['Package']) {
      if (isObj(pkg)) pkg['ReferenceNumber'] = { Code: 'PO', Value: reference };
    }
  }
  const body = {
    ShipmentRequest: {
      Request: { RequestOption: 'nonvalidate', TransactionReference: { CustomerContext: reference } },
      Shipment: s,
      LabelSpecification: { LabelImageFormat: { Code: batch.labelFormat ?? 'GIF' } },
    },
  };
  const parsed = ShipmentRequestBodySchema.safeParse(body);
  if (parsed.success) return { ok: true, request: parsed.data };
  return {
    ok: false,
    errors: zodIssuesToRowErrors(parsed.error.issues, rowNo, body, ['ShipmentRequest', 'Shipment']),
  };
}

/** A row as JSON for the isolate, or why it cannot be sent (e.g. a BigInt or a cycle). */
function rowJson(data: Record<string, unknown>): { json: string } | { error: string } {
  try {
    const json = JSON.stringify(data);
    if (typeof json !== 'string' || !json.startsWith('{')) return { error: 'the row is not an object' };
    return { json };
  } catch (e) {
    return { error: `the row cannot be read as JSON: ${describe(e)}` };
  }
}

class IsolatedBatchRenderer implements BatchRenderer {
  private isolate: TemplateIsolate | null;
  private stopped = 0;
  private gaveUp: string | null = null;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    isolate: TemplateIsolate,
    private readonly reopen: () => ReturnType<typeof TemplateIsolate.open>,
    private readonly shipper: Shipper,
    private readonly batch: BatchInfo,
    private readonly templateSetsPayer: boolean,
  ) {
    this.isolate = isolate;
  }

  renderRows(rows: readonly RowToRender[]): Promise<RenderResult[]> {
    // One call at a time per isolate: a failure's recovery (a new isolate) must not race another page.
    const run = this.queue.then(() => this.renderAll(rows));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async renderAll(rows: readonly RowToRender[]): Promise<RenderResult[]> {
    if (this.disposed) throw new Error('this batch renderer was disposed');
    const pages: (readonly RowToRender[])[] = [];
    for (let i = 0; i < rows.length; i += PAGE_ROWS) pages.push(rows.slice(i, i + PAGE_ROWS));
    const out: RenderResult[] = [];
    // Pipelined: the isolate renders the next page (on its own thread) while this one is validated here.
    let next = pages.length ? this.renderPage(pages[0]!) : undefined;
    for (let p = 0; p < pages.length; p++) {
      const texts = await next!;
      next = p + 1 < pages.length ? this.renderPage(pages[p + 1]!) : undefined;
      // If completing this page throws (a bug, never a row's fault), the next page's error is not lost
      // as an unhandled rejection.
      next?.catch(() => undefined);
      pages[p]!.forEach((row, j) => {
        const t = texts[j]!;
        out.push(
          'o' in t
            ? completeRequest(t.o, row.rowNo, this.shipper, this.batch, this.templateSetsPayer)
            : { ok: false, errors: [templateError(row.rowNo, `template error: ${t.e}`, 'template_render')] },
        );
      });
    }
    return out;
  }

  private async renderPage(page: readonly RowToRender[]): Promise<SandboxRowResult[]> {
    const results = new Array<SandboxRowResult | undefined>(page.length);
    const sendable: { idx: number; json: string }[] = [];
    page.forEach((row, idx) => {
      const r = rowJson(row.data);
      if ('error' in r) results[idx] = { e: r.error };
      else sendable.push({ idx, json: r.json });
    });
    if (sendable.length > 1 && !this.gaveUp) {
      try {
        const isolate = await this.live();
        const page = await isolate.renderPage(`[${sendable.map((s) => s.json).join(',')}]`, PAGE_TIMEOUT_MS);
        sendable.forEach((s, k) => (results[s.idx] = page[k] ?? { e: 'internal: no result for this row' }));
        return results as SandboxRowResult[];
      } catch (e) {
        if (!(e instanceof IsolateFailure)) throw e;
        // Some row of the page ran out of time or memory, or broke the engine: find it by rendering the
        // rows one by one (in a new isolate if this one cannot be trusted any more).
        if (e.kind === 'crash') this.discardIsolate();
      }
    }
    for (const s of sendable) results[s.idx] = await this.renderOne(s.json);
    return results as SandboxRowResult[];
  }

  private async renderOne(json: string): Promise<SandboxRowResult> {
    if (this.gaveUp) return { e: this.gaveUp };
    try {
      const isolate = await this.live();
      const cpu0 = isolate.cpuMs;
      const [r] = await isolate.renderPage(`[${json}]`, ROW_TIMEOUT_MS);
      // A row that needs most of its deadline (in CPU time, so a busy machine does not count) counts as
      // well: a template slow on every row would otherwise cost a deadline per row.
      if (isolate.cpuMs - cpu0 > ROW_TIMEOUT_MS / 2) this.strike();
      return r ?? { e: 'internal: no result for this row' };
    } catch (e) {
      if (!(e instanceof IsolateFailure)) throw e;
      if (e.kind === 'crash') this.discardIsolate();
      this.strike();
      return { e: `${e.message} (limits: ${ROW_TIMEOUT_MS} ms and ${ISOLATE_MEMORY_MB} MB per row)` };
    }
  }

  private strike(): void {
    if (++this.stopped >= MAX_STOPPED_ROWS)
      this.gaveUp =
        `the template was stopped (or needed more than ${ROW_TIMEOUT_MS / 2} ms) on ${this.stopped} rows of ` +
        'this batch, so the remaining rows are not rendered: fix the template';
  }

  private discardIsolate(): void {
    this.isolate?.dispose();
    this.isolate = null;
  }

  /** The isolate, recreated if a memory overrun (or a discard) disposed it. */
  private async live(): Promise<TemplateIsolate> {
    if (this.isolate?.alive) return this.isolate;
    this.isolate?.dispose();
    this.isolate = null;
    const opened = await this.reopen();
    if (!opened.ok)
      throw new IsolateFailure('crash', `the template engine could not be restarted: ${opened.error}`);
    if (this.disposed) {
      opened.isolate.dispose();
      throw new Error('this batch renderer was disposed');
    }
    this.isolate = opened.isolate;
    return opened.isolate;
  }

  dispose(): void {
    this.disposed = true;
    this.isolate?.dispose();
    this.isolate = null;
  }
}

/**
 * Open the renderer of one batch: a fresh isolate with the template compiled in it. `ok: false` when the
 * template is too large or does not compile (the message names the line and column).
 */
export async function openBatchRenderer(opts: {
  templateSource: string;
  shipper: Shipper;
  batch: BatchInfo;
  templateSetsPayer?: boolean;
}): Promise<{ ok: true; renderer: BatchRenderer } | { ok: false; error: string }> {
  const { templateSource, shipper, batch } = opts;
  if (typeof templateSource !== 'string') return { ok: false, error: 'the template must be text' };
  if (templateSource.length > MAX_TEMPLATE_CHARS)
    return {
      ok: false,
      error: `the template is ${templateSource.length} characters long; at most ${MAX_TEMPLATE_CHARS} are allowed`,
    };
  let shipperJson: string;
  let batchJson: string;
  try {
    shipperJson = JSON.stringify(shipper);
    const { referenceKey: _key, ...shown } = batch;
    batchJson = JSON.stringify(shown);
  } catch (e) {
    return { ok: false, error: `the shipper or batch cannot be read as JSON: ${describe(e)}` };
  }
  const cfg = { limits: { ...TEMPLATE_LIMITS }, templateSource, shipperJson, batchJson };
  const reopen = () => TemplateIsolate.open(cfg);
  const opened = await reopen();
  if (!opened.ok) return { ok: false, error: describe(opened.error) };
  // The renderer keeps its own copy of the shipper: later changes to the caller's object do not leak in.
  const own = JSON.parse(shipperJson) as Shipper;
  return {
    ok: true,
    renderer: new IsolatedBatchRenderer(opened.isolate, reopen, own, batch, opts.templateSetsPayer === true),
  };
}

/**
 * Render one row with a renderer of its own (opened and disposed here). For tools and tests; a batch
 * opens one renderer and renders its rows in pages.
 */
export async function renderShipmentRequest(
  templateSource: string,
  row: Record<string, unknown>,
  rowNo: number,
  shipper: Shipper,
  batch: BatchInfo,
  opts: { templateSetsPayer?: boolean } = {},
): Promise<RenderResult> {
  const opened = await openBatchRenderer({ templateSource, shipper, batch, ...opts });
  if (!opened.ok)
    return {
      ok: false,
      errors: [templateError(rowNo, `template does not compile: ${opened.error}`, 'template_syntax')],
    };
  try {
    const [r] = await opened.renderer.renderRows([{ rowNo, data: row }]);
    return r!;
  } finally {
    opened.renderer.dispose();
  }
}

export interface TemplateCheckReport {
  ok: boolean;
  compileError?: string;
  checkedRows: number;
  validRows: number;
  errors: RowError[];
}

/** Render the first `sampleSize` rows (row numbers 1..n) and report every error (for `template check`). */
export async function checkTemplate(args: {
  templateSource: string;
  rows: readonly Record<string, unknown>[];
  shipper: Shipper;
  sampleSize?: number;
  batch?: BatchInfo;
  templateSetsPayer?: boolean;
}): Promise<TemplateCheckReport> {
  const batch = args.batch ?? { id: 'batch-check', name: 'check', labelFormat: 'GIF' as const };
  const opened = await openBatchRenderer({
    templateSource: args.templateSource,
    shipper: args.shipper,
    batch,
    templateSetsPayer: args.templateSetsPayer,
  });
  if (!opened.ok) return { ok: false, compileError: opened.error, checkedRows: 0, validRows: 0, errors: [] };
  try {
    const rows = args.rows.slice(0, args.sampleSize ?? 20);
    const results = await opened.renderer.renderRows(rows.map((data, i) => ({ rowNo: i + 1, data })));
    const errors: RowError[] = [];
    let valid = 0;
    for (const r of results) {
      if (r.ok) valid++;
      else errors.push(...r.errors);
    }
    return { ok: errors.length === 0, checkedRows: rows.length, validRows: valid, errors };
  } finally {
    opened.renderer.dispose();
  }
}
