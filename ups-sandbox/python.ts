/**
 * How Python sees a JSON value: the real UPS MCP server is Python, and several of its answers show
 * Python's view of the caller's input (type names in TypeError/AttributeError texts, `str()` of a
 * country code, the `repr()` pydantic prints). The sandbox reproduces those views from here.
 */
import { isObj } from './json';

/** Python's type name of a JSON value after `json.loads`. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/** Python truthiness. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObj(v)) return Object.keys(v).length > 0;
  return true;
}

function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n);
}

/** Python's `repr()` of a string: single quotes unless the text holds one and no double quote. */
function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's `repr()` of a JSON value (integral numbers print as ints: JSON loses `1.0`). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return `{${entries.map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
}

/** Python's `str()`: text as is, everything else as its repr. */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** pydantic-core's `input_value=`: the repr, cut to its first 25 and last 24 characters past 50. */
export function pydanticInputRepr(v: unknown): string {
  const chars = [...pyRepr(v)];
  if (chars.length <= 50) return chars.join('');
  return `${chars.slice(0, 25).join('')}...${chars.slice(-24).join('')}`;
}

/** The text of a Python AttributeError for `.get` on a value that is not a dict. */
export function noGetAttribute(v: unknown): string {
  return `'${pyTypeName(v)}' object has no attribute 'get'`;
}
