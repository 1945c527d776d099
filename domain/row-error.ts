/**
 * Row-level errors: one per problem found in a row, path-precise, with a code in the seed's family.
 * E-1001 missing field, E-1002 value too long/short or wrong format (generic), E-2001 ZIP / postal code,
 * E-2002 state, E-2003 phone, E-2004 weight, E-2005 address too long, E-2006 unknown service code,
 * E-2007 unknown packaging code, E-2008 package count, E-4003 template (render error or bad JSON); from the
 * pre-flight: E-3001 address not found at UPS, E-3002 ambiguous address, E-3003 no service within the transit limit.
 */
import type { z } from 'zod';

export type RowErrorCode =
  | 'E-1001'
  | 'E-1002'
  | 'E-2001'
  | 'E-2002'
  | 'E-2003'
  | 'E-2004'
  | 'E-2005'
  | 'E-2006'
  | 'E-2007'
  | 'E-2008'
  | 'E-3001'
  | 'E-3002'
  | 'E-3003'
  | 'E-4003';

export interface RowError {
  rowNo: number;
  /** JSON path inside the Shipment (or request), e.g. `ShipTo.Address.PostalCode`. */
  path: string;
  rule: string;
  value: unknown;
  message: string;
  code: RowErrorCode;
}

/** Format a zod path as `A.B[0].C`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function codeFor(path: string, missing: boolean, params: Record<string, unknown> | undefined): RowErrorCode {
  const explicit = params?.['code'];
  if (typeof explicit === 'string') return explicit as RowErrorCode;
  if (missing) return 'E-1001';
  if (/PostalCode$/.test(path)) return 'E-2001';
  if (/StateProvinceCode$/.test(path)) return 'E-2002';
  if (/Phone\.Number$/.test(path)) return 'E-2003';
  if (/PackageWeight/.test(path)) return 'E-2004';
  if (/AddressLine/.test(path)) return 'E-2005';
  if (/Service\.Code$/.test(path)) return 'E-2006';
  if (/Packaging\.Code$/.test(path)) return 'E-2007';
  if (/Package$/.test(path)) return 'E-2008';
  return 'E-1002';
}

/**
 * Turn zod issues into RowErrors. `root` is the validated input (to report the actual value);
 * `stripPrefix` removes leading path segments (e.g. `ShipmentRequest.Shipment`) for readability.
 */
export function zodIssuesToRowErrors(
  issues: readonly z.core.$ZodIssue[],
  rowNo: number,
  root: unknown,
  stripPrefix: readonly string[] = [],
): RowError[] {
  return issues.map((issue) => {
    const value = valueAt(root, issue.path);
    let p = issue.path;
    if (stripPrefix.every((s, i) => p[i] === s)) p = p.slice(stripPrefix.length);
    const path = formatPath(p);
    const missing = value === undefined || value === null || value === '';
    const params = (issue as { params?: Record<string, unknown> }).params;
    const code = codeFor(path, missing && issue.code !== 'custom', params);
    const rule = typeof params?.['rule'] === 'string' ? params['rule'] : issue.code;
    const message =
      missing && issue.code !== 'custom'
        ? `${path} is required but missing`
        : `${path}: ${issue.message} (got ${JSON.stringify(value)})`;
    return { rowNo, path, rule, value, message, code };
  });
}

/** A template (render or JSON) error for a row. */
export function templateError(rowNo: number, message: string, rule = 'template', path = ''): RowError {
  return { rowNo, path, rule, value: undefined, message, code: 'E-4003' };
}
