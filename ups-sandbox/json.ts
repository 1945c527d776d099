/**
 * Reading untyped JSON (tool arguments, request bodies) without `any`. The sandbox keeps its own
 * helpers: it stands in for an external server, so it shares no code with the project it tests.
 */
export type JsonObject = Record<string, unknown>;

/** A plain object (not null, not an array). */
export function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** UPS takes one element as a bare value where a list is allowed: always a list (none for null/undefined). */
export function asList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined || v === null ? [] : [v];
}

/** A scalar as text; objects, arrays, null and undefined as `fallback`. */
export function text(v: unknown, fallback = ''): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      return fallback;
  }
}

/** A value that is there: not null/undefined and not blank text. */
export function isPresent(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  return typeof v !== 'string' || v.trim() !== '';
}
