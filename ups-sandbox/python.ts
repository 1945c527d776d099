/**
 * How Python sees a JSON value: the real UPS MCP server is Python, and several of its answers show
 * Python's view of the caller's input (type names in TypeError/AttributeError texts, `str()` of a
 * country code, the `repr()` pydantic prints). The sandbox reproduces those views from here.
 */
import { isObj } from './json';

/**
 * Whether Python reads a JSON number as an int: JavaScript writes integral numbers below 1e21 as
 * digits (Python: int) and larger ones with an exponent (Python: float).
 */
export function isPyInt(v: number): boolean {
  return Number.isInteger(v) && Math.abs(v) < 1e21;
}

/** Python's type name of a JSON value after `json.loads`. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return isPyInt(v) ? 'int' : 'float';
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

/**
 * Python's `repr()`/`str()` of a float: the shortest digits that read back the same number (as
 * JavaScript finds them), written in fixed notation for exponents -4..15 with at least one decimal
 * (`5.0`, `0.0001`) and in scientific notation otherwise with a signed two-digit exponent (`1e+16`,
 * `1.5e-05`).
 */
export function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const fraction = digits.slice(e + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

/** What Python's `str.isprintable` calls unprintable (other than the space, which repr keeps). */
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** How Python's `repr()` escapes an unprintable character: `\x85`, `\u3000`, `\U000e0001`. */
function pyCharEscape(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
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
    else if (ch !== ' ' && NOT_PRINTABLE.test(ch)) out += pyCharEscape(code);
    else out += ch;
  }
  return out + quote;
}

/** Python's `repr()` of a JSON value (integral numbers print as ints: JSON loses `1.0`). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return isPyInt(v) ? String(v) : pyFloat(v);
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

/** Python's ordering of two strings (by code point, not by UTF-16 unit): negative, 0 or positive. */
export function pyCompare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
