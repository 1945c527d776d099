/**
 * Row → validated UPS ShipmentRequest body (or the row's errors). Compile the template once per batch
 * (`prepareTemplate`), then call `renderShipmentRequest` per row: render, parse JSON, complete the
 * request_body (Shipper, PaymentInformation, references, RequestOption, LabelSpecification), validate.
 */
import type nunjucks from 'nunjucks';
import { rowReference } from '../../domain/reference';
import { templateError, zodIssuesToRowErrors, type RowError } from '../../domain/row-error';
import {
  ShipmentRequestBodySchema,
  type Shipper,
  type ShipmentRequestBody,
} from '../../domain/shipment-schema';
import { compileTemplate, renderSafely } from './environment';

export interface BatchInfo {
  id: string;
  name?: string;
  labelFormat?: 'GIF' | 'ZPL';
  [k: string]: unknown;
}

export type RenderResult = { ok: true; request: ShipmentRequestBody } | { ok: false; errors: RowError[] };

/** A compiled template, or an error if the source does not compile. */
export function prepareTemplate(
  source: string,
): { ok: true; template: nunjucks.Template } | { ok: false; error: string } {
  try {
    return { ok: true, template: compileTemplate(source) };
  } catch (e) {
    return { ok: false, error: describe(e) };
  }
}

function describe(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg
    .replace(/^\(unknown path\)\s*/, '')
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

export function renderShipmentRequest(
  template: nunjucks.Template | string,
  row: Record<string, unknown>,
  rowNo: number,
  shipper: Shipper,
  batch: BatchInfo,
): RenderResult {
  let tpl: nunjucks.Template;
  if (typeof template === 'string') {
    const p = prepareTemplate(template);
    if (!p.ok)
      return {
        ok: false,
        errors: [templateError(rowNo, `template does not compile: ${p.error}`, 'template_syntax')],
      };
    tpl = p.template;
  } else tpl = template;

  let text: string;
  try {
    text = renderSafely(tpl, { ...row, row, shipper, batch });
  } catch (e) {
    return { ok: false, errors: [templateError(rowNo, `template error: ${describe(e)}`, 'template_render')] };
  }
  let shipment: unknown;
  try {
    shipment = JSON.parse(text);
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
  const reference = rowReference(batch.id, rowNo);
  if (s['Shipper'] === undefined) s['Shipper'] = shipper;
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

export interface TemplateCheckReport {
  ok: boolean;
  compileError?: string;
  checkedRows: number;
  validRows: number;
  errors: RowError[];
}

/** Render the first `sampleSize` rows (row numbers 1..n) and report every error (for `template check`). */
export function checkTemplate(args: {
  templateSource: string;
  rows: readonly Record<string, unknown>[];
  shipper: Shipper;
  sampleSize?: number;
  batch?: BatchInfo;
}): TemplateCheckReport {
  const p = prepareTemplate(args.templateSource);
  if (!p.ok) return { ok: false, compileError: p.error, checkedRows: 0, validRows: 0, errors: [] };
  const rows = args.rows.slice(0, args.sampleSize ?? 20);
  const batch = args.batch ?? { id: 'batch-check', name: 'check', labelFormat: 'GIF' as const };
  const errors: RowError[] = [];
  let valid = 0;
  rows.forEach((row, i) => {
    const r = renderShipmentRequest(p.template, row, i + 1, args.shipper, batch);
    if (r.ok) valid++;
    else errors.push(...r.errors);
  });
  return { ok: errors.length === 0, checkedRows: rows.length, validRows: valid, errors };
}
