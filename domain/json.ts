/**
 * Reading untyped JSON (UPS bodies, tool arguments) without `any`: pure helpers of the UPS client (the
 * sandbox keeps its own, so it shares no code with what it stands in for).
 */
export type JsonObject = Record<string, unknown>;

/** A plain object (not null, not an array). */
export function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** UPS sends one element as a bare value where a list is allowed: always a list. */
export function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** A scalar as text; objects, arrays, null and undefined as `fallback`. */
export function text(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return fallback;
}

/** A value that is there: not null/undefined and not blank text. */
export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
}

/** JSON with object keys sorted at every level: the same value always gives the same text (hashes, comparisons). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) =>
    isObj(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, value[k]]),
        )
      : value,
  );
}
