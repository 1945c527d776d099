/**
 * Form elicitation of missing fields, as the real ups-mcp server does it: a client that declares the
 * `elicitation` capability is asked (`elicitation/create`) for the missing fields as a flat form;
 * the answers are checked, written into the request body, and the body is checked again (up to three
 * rounds). A client without the capability gets ELICITATION_UNSUPPORTED; fields a form cannot
 * collect (objects, arrays) give STRUCTURAL_FIELDS_REQUIRED without asking.
 *
 * One observed quirk is reproduced on purpose: with the `mcp<2` Python SDK the real server runs on,
 * a form holding a field with fixed choices (service, packaging, weight unit, ...) is refused by the
 * SDK before it is sent, so the call ends with ELICITATION_FAILED without asking.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ElicitResultSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { JsonObject } from './json';
import { ToolFailure } from './errors';
import { fieldExists, setField, StructuralConflict } from './preflight/dot-path';
import { missingPayload, type MissingField } from './preflight/fields';
import { pyStr } from './python';

type Obj = JsonObject;

/** Asks the client to fill a flat form; resolves with its answer. */
export type FormElicitor = (message: string, requestedSchema: Obj) => Promise<ElicitResult>;

/** The minimum of a tool handler's `extra` the elicitor needs. */
export interface ElicitingRequestExtra {
  sendRequest: (
    request: { method: 'elicitation/create'; params: Obj },
    schema: typeof ElicitResultSchema,
  ) => Promise<ElicitResult>;
}

/**
 * The elicitor of one tool call, or undefined when the client did not declare form elicitation
 * (an empty `elicitation: {}` counts as form, a URL-only declaration does not).
 */
export function formElicitor(
  server: Pick<Server, 'getClientCapabilities'>,
  extra: ElicitingRequestExtra,
): FormElicitor | undefined {
  const declared = server.getClientCapabilities()?.elicitation as
    { form?: unknown; url?: unknown } | undefined;
  if (!declared) return undefined;
  if (declared.form === undefined && declared.url !== undefined) return undefined;
  return (message, requestedSchema) =>
    extra.sendRequest(
      { method: 'elicitation/create', params: { message, requestedSchema } },
      ElicitResultSchema,
    );
}

const MAX_ROUNDS = 3;

/** pydantic's title of a field name: "ship_to_name" → "Ship To Name". */
function title(key: string): string {
  return key
    .split('_')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join(' ');
}

/** The flat JSON Schema of the form asking for `fields`. */
export function formSchema(fields: MissingField[]): Obj {
  const properties: Obj = {};
  for (const f of fields) {
    properties[f.flat_key] = {
      description: f.prompt,
      ...(f.default === undefined ? {} : { default: f.default }),
      ...(f.gt === undefined ? {} : { exclusiveMinimum: f.gt }),
      ...(f.maxLength === undefined ? {} : { maxLength: f.maxLength }),
      ...(f.pattern === undefined ? {} : { pattern: f.pattern }),
      title: title(f.flat_key),
      type: f.kind,
    };
  }
  const required = fields.filter((f) => f.default === undefined).map((f) => f.flat_key);
  return { properties, required, title: 'MissingFields', type: 'object' };
}

function failure(code: string, message: string, reason: string, fields: MissingField[]): ToolFailure {
  return new ToolFailure({ code, message, reason, missing: missingPayload(fields) });
}

/** The answers as trimmed text, codes upper-cased, blanks dropped. */
function normalize(content: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(content)) {
    let value = pyStr(raw).trim();
    if (!value) continue;
    if (/(_country_code|_state|_weight_unit|_currency_code)$/.test(key)) value = value.toUpperCase();
    out[key] = value;
  }
  return out;
}

/** Problems with the answers, worded for the next round's message. */
function answerProblems(answers: Record<string, string>, fields: MissingField[]): string[] {
  const byKey = new Map(fields.map((f) => [f.flat_key, f]));
  const problems: string[] = [];
  for (const [key, value] of Object.entries(answers)) {
    const field = byKey.get(key);
    const label = field?.prompt ?? key;
    if (field?.choices && !field.choices.some(([code]) => code === value)) {
      problems.push(`${label}: must be one of [${field.choices.map(([c]) => c).join(', ')}]`);
    }
    if (/_weight$/.test(key)) {
      const w = Number(value);
      if (value.trim() === '' || Number.isNaN(w)) problems.push(`${label}: must be a number`);
      else if (!Number.isFinite(w) || w <= 0) problems.push(`${label}: must be a positive, finite number`);
    }
    if (/_country_code$/.test(key) && !/^[A-Z]{2}$/.test(value))
      problems.push(`${label}: must be a 2-letter country code`);
    if (/_state$/.test(key) && !/^[A-Z]{2}$/.test(value))
      problems.push(`${label}: must be a 2-letter state/province code`);
    if (/_currency_code$/.test(key) && !/^[A-Z]{3}$/.test(value)) {
      problems.push(`${label}: must be a 3-letter currency code (e.g. USD, EUR, GBP)`);
    }
    if (/_postal_code$/.test(key)) {
      const country = (answers[`${key.slice(0, -'_postal_code'.length)}_country_code`] ?? '').toUpperCase();
      if (country === 'US' && !/^\d{5}(-\d{4})?$/.test(value)) {
        problems.push(`${label}: must be a valid US postal code (e.g. 10001 or 10001-1234)`);
      } else if (country === 'CA' && !/^[A-Z]\d[A-Z] ?\d[A-Z]\d$/.test(value)) {
        problems.push(`${label}: must be a valid Canadian postal code (e.g. K1A 0B1)`);
      }
    }
  }
  return problems;
}

/** Required fields absent from an accepted answer, or answers of the wrong type (the SDK's check). */
function contentMismatch(content: Record<string, unknown>, fields: MissingField[]): string | undefined {
  for (const f of fields) {
    const v = content[f.flat_key];
    if (v === undefined) {
      if (f.default === undefined) return `${f.flat_key}: Field required`;
      continue;
    }
    const ok =
      f.kind === 'string'
        ? typeof v === 'string'
        : typeof v === 'number' && (f.kind === 'number' || Number.isInteger(v));
    if (!ok) return `${f.flat_key}: Input should be a valid ${f.kind}`;
    if (f.gt !== undefined && typeof v === 'number' && !(v > f.gt)) {
      return `${f.flat_key}: Input should be greater than ${f.gt}`;
    }
  }
  return undefined;
}

export interface ElicitationFlow {
  /** How the form names the request ("shipment creation", "rate request"). */
  label: string;
  /** The missing fields of a body after answers were written in. */
  recheck: (body: Obj) => MissingField[];
  /** The body's canonical form (lists where UPS allows lists). */
  canonicalize: (body: Obj) => Obj;
}

/**
 * Ask for `missing` (or refuse as the real server does) and return the completed body; throws a
 * {@link ToolFailure} with the real server's code when the fields cannot be had.
 */
export async function elicitMissing(
  elicit: FormElicitor | undefined,
  body: Obj,
  missing: MissingField[],
  flow: ElicitationFlow,
): Promise<Obj> {
  const structural = missing.filter((f) => !f.elicitable);
  let fields = missing.filter((f) => f.elicitable);
  if (structural.length > 0) {
    throw failure(
      'STRUCTURAL_FIELDS_REQUIRED',
      `Missing ${structural.length} structural field(s) that must be added directly to request_body (cannot be elicited via form)`,
      'structural',
      structural,
    );
  }
  if (!elicit) {
    throw failure(
      'ELICITATION_UNSUPPORTED',
      `Missing ${fields.length} required field(s) and client does not support form elicitation`,
      'unsupported',
      fields,
    );
  }
  let base = `Missing ${fields.length} required field(s) for ${flow.label}.`;
  let message = base;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const choice = fields.find((f) => f.choices);
    let answer: ElicitResult;
    try {
      if (choice) {
        throw new Error(
          `Elicitation schema field '${choice.flat_key}' must be a primitive type (<class 'str'>, <class 'int'>, ` +
            "<class 'float'>, <class 'bool'>), a sequence of strings (list[str], etc.), or Optional of these types. " +
            'Nested models and complex types are not allowed.',
        );
      }
      answer = await elicit(message, formSchema(fields));
      if (answer.action === 'accept') {
        const mismatch = contentMismatch(answer.content ?? {}, fields);
        if (mismatch) throw new Error(`1 validation error for MissingFields\n${mismatch}`);
      }
    } catch (err) {
      throw failure(
        'ELICITATION_FAILED',
        `Elicitation request failed: ${err instanceof Error ? err.message : String(err)}`,
        'transport_error',
        fields,
      );
    }
    if (answer.action === 'decline') {
      throw failure(
        'ELICITATION_DECLINED',
        `User declined to provide missing ${flow.label} fields`,
        'declined',
        fields,
      );
    }
    if (answer.action === 'cancel') {
      throw failure(
        'ELICITATION_CANCELLED',
        `User cancelled ${flow.label} field elicitation`,
        'cancelled',
        fields,
      );
    }
    const answers = normalize(answer.content ?? {});
    const problems = answerProblems(answers, fields);
    if (problems.length > 0) {
      message = `Please correct the following:\n${problems.map((p) => `- ${p}`).join('\n')}\n\n${base}`;
      continue;
    }
    const paths = new Map(fields.map((f) => [f.flat_key, f.dot_path]));
    const updated = flow.canonicalize(body);
    for (const [key, value] of Object.entries(answers)) {
      const path = paths.get(key);
      if (path === undefined || fieldExists(updated, path)) continue;
      try {
        setField(updated, path, value);
      } catch (err) {
        if (!(err instanceof StructuralConflict)) throw err;
        throw failure(
          'ELICITATION_INVALID_RESPONSE',
          `Elicited data conflicts with request structure: Cannot set '${key}' at '${path}': ${err.message}`,
          'rehydration_error',
          fields,
        );
      }
    }
    const still = flow.recheck(updated);
    if (still.length === 0) return updated;
    const stillStructural = still.filter((f) => !f.elicitable);
    if (stillStructural.length > 0) {
      throw failure(
        'STRUCTURAL_FIELDS_REQUIRED',
        `Missing ${stillStructural.length} structural field(s) that must be added directly to request_body`,
        'structural',
        stillStructural,
      );
    }
    fields = still;
    body = updated;
    base = `Missing ${fields.length} required field(s) for ${flow.label}.`;
    message = `Still missing after elicitation:\n${fields.map((f) => `- ${f.prompt}`).join('\n')}\n\n${base}`;
  }
  throw failure(
    'ELICITATION_MAX_RETRIES',
    `Maximum elicitation retries (${MAX_ROUNDS}) exceeded for ${flow.label}`,
    'max_retries',
    fields,
  );
}
