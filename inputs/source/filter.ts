/**
 * The source filter (docs/design.md §7): a user-written SQL boolean expression over the source's columns, checked
 * with PostgreSQL's own parser (libpg-query) against an allow-list, then RE-EMITTED from the validated tree.
 *
 * Why re-emit instead of pasting the approved text into the WHERE clause: the text is only as safe as our
 * reading of it, and PostgreSQL's lexer has many corners (dollar quotes, `U&"…"` escapes, `E'\''`,
 * `standard_conforming_strings`, nested comments). Re-emitting means the SQL that runs contains only what the
 * checker saw: every column double-quoted from the known column list, every string literal re-quoted by us,
 * every function and type schema-qualified with `pg_catalog` (so a same-named function or type in `public`
 * can't be substituted), every sub-expression parenthesised (so precedence is the parser's, not a guess).
 *
 * Operators are emitted as `OPERATOR(pg_catalog.=)`, never bare: a bare `=` is looked up through the
 * reader's search_path, where a role with CREATE on an earlier schema (or one whose exact argument types beat
 * pg_catalog's) could put its own `=` and have it run inside the read (CVE-2018-1058). The constructs that
 * imply an operator PostgreSQL would look up by name are spelled out with explicit ones: IN becomes
 * `= ANY`/`<> ALL`, BETWEEN two comparisons, IS DISTINCT FROM and NULLIF an explicit `=`.
 *
 * The filter must be a pure function of the row: a batch's load is paged and may be retried, so it must
 * select the same rows every time it is evaluated. Hence:
 * - time-dependent functions (`now()`, `current_date`, `random()`, …) are not on the allow-list;
 * - a cast to date or timestamp is allowed only from a column or from a literal written as an absolute ISO
 *   8601 date/time (checked here, not left to PostgreSQL's input function, which also reads 'now', 'today',
 *   '03/04/2024' by DateStyle…), never from a computed value such as `'yesterday'::text::date`;
 * - an untyped string literal takes the type of what it meets, so `created > 'today 12:00'` is a time
 *   relative to now: a literal containing one of PostgreSQL's relative date/time words (now, today,
 *   tomorrow, yesterday) is refused, except as a LIKE pattern or inside an explicit cast to a non-date type
 *   (`'now'::text`), where it can only be text;
 * - the only pattern language is LIKE/ILIKE: `~`, SIMILAR TO and substring's pattern forms
 *   (`substring(x, 'regex')`, `substring(x SIMILAR p ESCAPE e)`) are refused; substring's and substr's
 *   positions are forced to integers.
 * Session settings that change how values read (TimeZone, DateStyle…) are pinned by the read (source.ts).
 */
import { loadModule, parseSync, scanSync } from 'libpg-query';
import { quoteIdent } from './identifiers';

/** A filter was refused; the message names what was refused (shown to the user as is). */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

/** A filter that passed the checks. `sql` is parenthesised and safe to AND into a WHERE clause. */
export interface ValidatedFilter {
  /** The original text, for display and hashing. */
  text: string;
  /** SQL emitted from the validated tree, e.g. `(("state" = E'CA'))`. */
  sql: string;
  /** The columns the filter reads, in order of first use. */
  columns: string[];
}

/**
 * Limits that keep a hostile filter from costing much even before it reaches PostgreSQL. `maxSqlLength`
 * bounds the emitted SQL: BETWEEN, IS DISTINCT FROM, NULLIF and IN over columns repeat an operand.
 */
export const FILTER_LIMITS = {
  maxLength: 10_000,
  maxNodes: 2_000,
  maxDepth: 64,
  maxSqlLength: 200_000,
} as const;

const PREFIX = 'SELECT 1 FROM t WHERE ';

/** Binary (and unary + / -) operators allowed in `A_Expr` of kind AEXPR_OP. */
const OPERATORS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '||']);
/** The operators LIKE, NOT LIKE, ILIKE and NOT ILIKE stand for. */
const LIKE_OPERATORS = new Set(['~~', '!~~', '~~*', '!~~*']);

/** An operator as emitted: looked up in pg_catalog only, whatever the reader's search_path holds. */
function op(name: string): string {
  return `OPERATOR(pg_catalog.${name === '!=' ? '<>' : name})`;
}

/**
 * The words PostgreSQL's date/time input reads as a time relative to now (its datetktbl entries now, today,
 * tomorrow, yesterday; 'epoch', 'infinity' and 'allballs' are constants). It matches a word only as a whole
 * run of letters, case-insensitively, which is how the scan below looks for them.
 */
const RELATIVE_TIME_WORDS = new Set(['now', 'today', 'tomorrow', 'yesterday']);

/** The first relative date/time word in `s`, if any. */
function relativeTimeWord(s: string): string | undefined {
  for (const [word] of s.matchAll(/[A-Za-z]+/g)) {
    if (RELATIVE_TIME_WORDS.has(word.toLowerCase())) return word;
  }
  return undefined;
}

/**
 * The literals a cast to date or timestamp accepts: an ISO 8601 date, optionally with a time and a UTC
 * offset, or one of the constant specials. Read the same under any DateStyle or time of day.
 */
const ABSOLUTE_DATE_TIME =
  /^(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?)?|epoch|infinity|-infinity)$/i;
const DATE_TIME_TYPES = new Set(['date', 'timestamp']);

/** A user's literal, quoted for a message; long ones are cut. */
function shown(s: string): string {
  return `'${s.length > 60 ? `${s.slice(0, 57)}…` : s}'`;
}

/** Refusal of a literal that would read as a time relative to now. */
function relativeTimeError(s: string, word: string, hint: string): FilterError {
  return new FilterError(
    `${shown(s)} is not allowed: it changes from one read to the next ('${word}' is a time relative to now); ${hint}`,
  );
}

/**
 * Pure functions allowed, with their argument counts. All are immutable (or, for date_trunc on timestamptz,
 * stable), cheap and bounded in output size (no repeat/lpad that could build huge strings).
 */
const FUNCTIONS: Record<string, { min: number; max: number }> = {
  lower: { min: 1, max: 1 },
  upper: { min: 1, max: 1 },
  btrim: { min: 1, max: 2 },
  ltrim: { min: 1, max: 2 },
  rtrim: { min: 1, max: 2 },
  length: { min: 1, max: 1 },
  char_length: { min: 1, max: 1 },
  abs: { min: 1, max: 1 },
  round: { min: 1, max: 2 },
  floor: { min: 1, max: 1 },
  ceil: { min: 1, max: 1 },
  substring: { min: 2, max: 3 },
  substr: { min: 2, max: 3 },
  left: { min: 2, max: 2 },
  right: { min: 2, max: 2 },
  date_trunc: { min: 2, max: 2 },
};

/** Names a user may write, mapped to the canonical pg_catalog type emitted. */
const TYPES: Record<string, string> = {
  text: 'text',
  varchar: 'varchar',
  int4: 'int4',
  integer: 'int4',
  int: 'int4',
  int8: 'int8',
  bigint: 'int8',
  numeric: 'numeric',
  date: 'date',
  timestamp: 'timestamp',
  bool: 'bool',
  boolean: 'bool',
};

/** Node types that are refused outright, with the words the error uses. */
const REFUSED_NODES: Record<string, string> = {
  SubLink: 'subqueries are not allowed',
  ParamRef: 'parameters ($1, $2, …) are not allowed',
  SQLValueFunction: 'current_date, current_user and the like are not allowed (not deterministic)',
  A_ArrayExpr: 'arrays are not allowed',
  RowExpr: 'row constructors are not allowed',
  A_Indirection: 'subscripts and field selection are not allowed',
  CollateClause: 'COLLATE is not allowed',
  CaseExpr: 'CASE is not allowed',
  GroupingFunc: 'GROUPING is not allowed',
  MultiAssignRef: 'multiple assignment is not allowed',
  XmlExpr: 'XML functions are not allowed',
  JsonFuncExpr: 'JSON functions are not allowed',
  JsonParseExpr: 'JSON functions are not allowed',
  JsonScalarExpr: 'JSON functions are not allowed',
  JsonSerializeExpr: 'JSON functions are not allowed',
  JsonObjectConstructor: 'JSON functions are not allowed',
  JsonArrayConstructor: 'JSON functions are not allowed',
  JsonIsPredicate: 'IS JSON is not allowed',
  SetToDefault: 'DEFAULT is not allowed',
  MergeSupportFunc: 'MERGE_ACTION is not allowed',
};

/** Functions refused with a pointed reason (they are refused anyway: not on the allow-list). */
const VOLATILE =
  /^(now|random|setseed|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|nextval|setval|currval|lastval|gen_random_uuid|uuidv[47]|pg_sleep.*|set_config|txid_.*|pg_current_.*)$/;

const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid']);

let loaded: Promise<void> | undefined;

/** libpg-query is WebAssembly: load it once per process before the first synchronous parse. */
function ready(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The one key of a parse-tree node wrapper (`{ A_Expr: {...} }` → `['A_Expr', {...}]`). */
function unwrap(v: unknown): [string, Node] {
  if (!isNode(v)) throw new FilterError('the filter has an unexpected shape');
  const keys = Object.keys(v);
  const inner = v[keys[0] ?? ''];
  if (keys.length !== 1 || !isNode(inner)) throw new FilterError('the filter has an unexpected shape');
  return [keys[0] as string, inner];
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** `[{String:{sval:'a'}}, …]` → `['a', …]`; anything else (e.g. `*`) → null. */
function names(v: unknown): string[] | null {
  const out: string[] = [];
  for (const item of list(v)) {
    if (!isNode(item) || !isNode(item['String'])) return null;
    const s = item['String']['sval'];
    if (typeof s !== 'string') return null;
    out.push(s);
  }
  return out;
}

/** Only the keys we understand may be present: a new grammar feature must not slip through unchecked. */
function onlyKeys(node: Node, what: string, allowed: readonly string[]): void {
  for (const k of Object.keys(node)) {
    if (k !== 'location' && !allowed.includes(k)) throw new FilterError(`${what} with ${k} is not allowed`);
  }
}

/** A string literal PostgreSQL reads the same way whatever `standard_conforming_strings` says. */
export function quoteLiteral(s: string): string {
  if (s.includes('\0')) throw new FilterError('NUL characters are not allowed in the filter');
  return `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A string constant's value (`A_Const` with `sval`), or undefined for any other node. */
function stringConst(v: unknown): string | undefined {
  const c = isNode(v) ? v['A_Const'] : undefined;
  if (!isNode(c) || !isNode(c['sval'])) return undefined;
  const s = c['sval']['sval']; // absent for ''
  return typeof s === 'string' ? s : '';
}

/**
 * A constant IN-list item as an element of an array literal (`"CA"`, `12`, `NULL`), or undefined when the
 * item is not a constant. Strings are double-quoted with `"` and `\` escaped, as array input reads them.
 */
function arrayElement(v: unknown): string | undefined {
  const c = isNode(v) ? v['A_Const'] : undefined;
  if (!isNode(c)) return undefined;
  if (c['isnull'] === true) return 'NULL';
  const s = stringConst(v);
  if (s !== undefined) return `"${s.replace(/[\\"]/g, '\\$&')}"`;
  if (isNode(c['ival'])) {
    const ival = c['ival']['ival'] ?? 0;
    return typeof ival === 'number' ? String(ival) : undefined;
  }
  if (isNode(c['fval']) && typeof c['fval']['fval'] === 'string') return c['fval']['fval'];
  if (isNode(c['boolval'])) return c['boolval']['boolval'] === true ? 'true' : 'false';
  return undefined;
}

/** What a cast's operand is, for a message: "a cast", "lower(…)", "a number". */
function describeOperand(v: unknown): string {
  const [type, n] = unwrap(v);
  if (type === 'TypeCast') return 'a cast';
  if (type === 'FuncCall') return `${(names(n['funcname']) ?? []).join('.')}(…)`;
  if (type === 'CoalesceExpr') return 'coalesce(…)';
  if (type === 'MinMaxExpr') return 'greatest/least(…)';
  if (type === 'A_Expr') return 'an operator expression';
  if (type === 'A_Const') return 'boolval' in n ? 'a boolean' : 'bsval' in n ? 'a bit string' : 'a number';
  return describeNode(type);
}

class Emitter {
  private nodes = 0;
  readonly used: string[] = [];
  /** String constants (their `A_Const` nodes) whose type can only be text: exempt from the relative-time check. */
  private readonly plainText = new WeakSet<object>();

  constructor(private readonly columns: readonly string[]) {}

  expr(v: unknown, depth: number): string {
    if (depth > FILTER_LIMITS.maxDepth) throw new FilterError('the filter is nested too deeply');
    if (++this.nodes > FILTER_LIMITS.maxNodes) throw new FilterError('the filter is too complex');
    const [type, n] = unwrap(v);
    const refused = REFUSED_NODES[type];
    if (refused) throw new FilterError(refused);
    const d = depth + 1;
    switch (type) {
      case 'ColumnRef':
        return this.column(n);
      case 'A_Const':
        return this.constant(n);
      case 'BoolExpr': {
        onlyKeys(n, 'a boolean expression', ['boolop', 'args']);
        const args = list(n['args']).map((a) => this.expr(a, d));
        if (n['boolop'] === 'NOT_EXPR' && args.length === 1) return `(NOT ${args[0]})`;
        if (n['boolop'] === 'AND_EXPR' && args.length >= 2) return `(${args.join(' AND ')})`;
        if (n['boolop'] === 'OR_EXPR' && args.length >= 2) return `(${args.join(' OR ')})`;
        throw new FilterError('the filter has an unexpected boolean expression');
      }
      case 'NullTest': {
        onlyKeys(n, 'IS NULL', ['arg', 'nulltesttype', 'argisrow']);
        const arg = this.expr(n['arg'], d);
        if (n['nulltesttype'] === 'IS_NULL') return `(${arg} IS NULL)`;
        if (n['nulltesttype'] === 'IS_NOT_NULL') return `(${arg} IS NOT NULL)`;
        throw new FilterError('the filter has an unexpected IS NULL test');
      }
      case 'BooleanTest': {
        onlyKeys(n, 'IS TRUE/FALSE', ['arg', 'booltesttype']);
        const tests: Record<string, string> = {
          IS_TRUE: 'IS TRUE',
          IS_NOT_TRUE: 'IS NOT TRUE',
          IS_FALSE: 'IS FALSE',
          IS_NOT_FALSE: 'IS NOT FALSE',
          IS_UNKNOWN: 'IS UNKNOWN',
          IS_NOT_UNKNOWN: 'IS NOT UNKNOWN',
        };
        const test = tests[String(n['booltesttype'])];
        if (!test) throw new FilterError('the filter has an unexpected IS TRUE/FALSE test');
        return `(${this.expr(n['arg'], d)} ${test})`;
      }
      case 'A_Expr':
        return this.aExpr(n, d);
      case 'TypeCast':
        return this.typeCast(n, d);
      case 'FuncCall':
        return this.funcCall(n, d);
      case 'CoalesceExpr': {
        onlyKeys(n, 'COALESCE', ['args']);
        const args = list(n['args']).map((a) => this.expr(a, d));
        if (args.length === 0) throw new FilterError('COALESCE needs arguments');
        return `COALESCE(${args.join(', ')})`;
      }
      case 'MinMaxExpr': {
        onlyKeys(n, 'GREATEST/LEAST', ['op', 'args']);
        const args = list(n['args']).map((a) => this.expr(a, d));
        const fn = n['op'] === 'IS_LEAST' ? 'LEAST' : n['op'] === 'IS_GREATEST' ? 'GREATEST' : null;
        if (!fn || args.length === 0) throw new FilterError('the filter has an unexpected GREATEST/LEAST');
        return `${fn}(${args.join(', ')})`;
      }
      default:
        throw new FilterError(`${describeNode(type)} is not allowed in a filter`);
    }
  }

  private column(n: Node): string {
    const fields = names(n['fields']);
    if (!fields) throw new FilterError('"*" is not allowed in a filter');
    if (fields.length !== 1) {
      throw new FilterError(
        `column references with a table or schema ("${fields.join('.')}") are not allowed: name the column only`,
      );
    }
    const name = fields[0] as string;
    if (!this.columns.includes(name)) {
      if (SYSTEM_COLUMNS.has(name)) throw new FilterError(`system column "${name}" is not allowed`);
      const hint = this.columns.find((c) => c.toLowerCase() === name.toLowerCase());
      throw new FilterError(
        `unknown column ${quoteIdent(name)} (columns: ${this.columns.join(', ')})` +
          (hint ? `; did you mean ${quoteIdent(hint)} (quote mixed-case names)?` : ''),
      );
    }
    if (!this.used.includes(name)) this.used.push(name);
    return quoteIdent(name);
  }

  private constant(n: Node): string {
    if (n['isnull'] === true) return 'NULL';
    if ('ival' in n) {
      const ival = isNode(n['ival']) ? (n['ival']['ival'] ?? 0) : undefined;
      if (typeof ival !== 'number' || !Number.isSafeInteger(ival))
        throw new FilterError('bad integer literal');
      // A negative literal is parenthesised so `-` can't glue to a preceding operator (`a--1` is a comment).
      return ival < 0 ? `(${ival})` : String(ival);
    }
    if ('fval' in n) {
      const fval = isNode(n['fval']) ? n['fval']['fval'] : undefined;
      if (typeof fval !== 'string' || !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(fval)) {
        throw new FilterError('bad numeric literal');
      }
      return fval.startsWith('-') ? `(${fval})` : fval;
    }
    if ('boolval' in n) {
      const b = isNode(n['boolval']) ? n['boolval']['boolval'] === true : false;
      return b ? 'TRUE' : 'FALSE';
    }
    if ('sval' in n) {
      const s = isNode(n['sval']) ? (n['sval']['sval'] ?? '') : undefined;
      if (typeof s !== 'string') throw new FilterError('bad string literal');
      // Untyped: it takes the type of what it meets, a date or time too. Text-only places are marked.
      const word = this.plainText.has(n) ? undefined : relativeTimeWord(s);
      if (word !== undefined) {
        throw relativeTimeError(
          s,
          word,
          `use a literal date such as '2024-03-01', or write ${shown(s)}::text to compare it as text`,
        );
      }
      return quoteLiteral(s);
    }
    throw new FilterError('bit-string and other special literals are not allowed');
  }

  /** Mark `v`, if it is a string constant, as text-only (a LIKE pattern, the operand of a cast to text…). */
  private markPlainText(v: unknown): void {
    const c = isNode(v) ? v['A_Const'] : undefined;
    if (isNode(c)) this.plainText.add(c);
  }

  /** Refuse before building SQL of `length` characters over FILTER_LIMITS.maxSqlLength (repeated operands). */
  private fits(length: number): void {
    if (length > FILTER_LIMITS.maxSqlLength) throw new FilterError('the filter is too complex');
  }

  private aExpr(n: Node, d: number): string {
    onlyKeys(n, 'an operator', ['kind', 'name', 'lexpr', 'rexpr', 'rexpr_list_start', 'rexpr_list_end']);
    const kind = String(n['kind']);
    const opNames = names(n['name']);
    if (!opNames || opNames.length !== 1) {
      throw new FilterError('schema-qualified operators (OPERATOR(schema.op)) are not allowed');
    }
    const name = opNames[0] as string;
    switch (kind) {
      case 'AEXPR_OP': {
        if (!OPERATORS.has(name)) throw new FilterError(`operator ${name} is not allowed`);
        const right = this.expr(n['rexpr'], d);
        if (n['lexpr'] === undefined) {
          if (name !== '-' && name !== '+') throw new FilterError(`prefix operator ${name} is not allowed`);
          return `(${op(name)} ${right})`;
        }
        return `(${this.expr(n['lexpr'], d)} ${op(name)} ${right})`;
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE': {
        if (!LIKE_OPERATORS.has(name)) throw new FilterError(`operator ${name} is not allowed`);
        // Both sides of LIKE are text (or bytea): a literal there is never read as a date.
        this.markPlainText(n['lexpr']);
        this.markPlainText(n['rexpr']);
        return `(${this.expr(n['lexpr'], d)} ${op(name)} ${this.expr(n['rexpr'], d)})`;
      }
      case 'AEXPR_IN': {
        if (name !== '=' && name !== '<>') throw new FilterError(`operator ${name} is not allowed`);
        return this.inList(n, name, d);
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN':
      case 'AEXPR_BETWEEN_SYM':
      case 'AEXPR_NOT_BETWEEN_SYM': {
        const a = this.expr(n['lexpr'], d);
        const items = this.listItems(n['rexpr'], 'BETWEEN', d);
        if (items.length !== 2) throw new FilterError('BETWEEN needs two bounds');
        const [lo, hi] = items as [string, string];
        // What PostgreSQL itself rewrites BETWEEN to, with the comparison operators pinned.
        const inside = (x: string, y: string) => `((${a} ${op('>=')} ${x}) AND (${a} ${op('<=')} ${y}))`;
        const outside = (x: string, y: string) => `((${a} ${op('<')} ${x}) OR (${a} ${op('>')} ${y}))`;
        this.fits(a.length * 4);
        if (kind === 'AEXPR_BETWEEN') return inside(lo, hi);
        if (kind === 'AEXPR_NOT_BETWEEN') return outside(lo, hi);
        if (kind === 'AEXPR_BETWEEN_SYM') return `(${inside(lo, hi)} OR ${inside(hi, lo)})`;
        return `(${outside(lo, hi)} AND ${outside(hi, lo)})`;
      }
      case 'AEXPR_DISTINCT':
      case 'AEXPR_NOT_DISTINCT': {
        const a = this.expr(n['lexpr'], d);
        const b = this.expr(n['rexpr'], d);
        this.fits((a.length + b.length) * 2);
        // a IS DISTINCT FROM b: they differ, or exactly one is NULL. Spelled out so `=` is pinned.
        const bothNull = `(${a} IS NULL AND ${b} IS NULL)`;
        return kind === 'AEXPR_DISTINCT'
          ? `((${a} ${op('=')} ${b}) IS NOT TRUE AND NOT ${bothNull})`
          : `((${a} ${op('=')} ${b}) IS TRUE OR ${bothNull})`;
      }
      case 'AEXPR_NULLIF': {
        const a = this.expr(n['lexpr'], d);
        const b = this.expr(n['rexpr'], d);
        this.fits(a.length * 2);
        // NULLIF(a, b) is defined as this CASE; spelled out so `=` is pinned.
        return `(CASE WHEN (${a} ${op('=')} ${b}) THEN NULL ELSE ${a} END)`;
      }
      case 'AEXPR_OP_ANY':
      case 'AEXPR_OP_ALL':
        throw new FilterError('ANY/ALL are not allowed: use IN (…)');
      case 'AEXPR_SIMILAR':
        throw new FilterError('SIMILAR TO is not allowed: use LIKE or ILIKE');
      default:
        throw new FilterError(`operator ${name} is not allowed`);
    }
  }

  /**
   * `a IN (…)` / `a NOT IN (…)` with the operator pinned. A list of constants becomes one untyped array
   * literal, `a = ANY ('{…}')`: PostgreSQL then types the array after `a`, as it does an IN list, and the
   * plan is the same constant-array (hashable) test IN gives. A list with expressions becomes the OR (AND)
   * of comparisons PostgreSQL makes of such a list anyway.
   */
  private inList(n: Node, name: '=' | '<>', d: number): string {
    const a = this.expr(n['lexpr'], d);
    const [type, list_] = unwrap(n['rexpr']);
    if (type !== 'List') throw new FilterError('IN needs a list of values');
    const raw = list(list_['items']);
    if (raw.length === 0) throw new FilterError('IN needs at least one value');
    const items = raw.map((item) => this.expr(item, d));
    const elements = raw.map(arrayElement);
    if (elements.every((e) => e !== undefined)) {
      const array = quoteLiteral(`{${elements.join(',')}}`);
      return `(${a} ${op(name)} ${name === '=' ? 'ANY' : 'ALL'} (${array}))`;
    }
    this.fits(a.length * items.length);
    return `(${items.map((item) => `(${a} ${op(name)} ${item})`).join(name === '=' ? ' OR ' : ' AND ')})`;
  }

  private listItems(v: unknown, what: string, d: number): string[] {
    const [type, n] = unwrap(v);
    if (type !== 'List') throw new FilterError(`${what} needs a list of values`);
    return list(n['items']).map((item) => this.expr(item, d));
  }

  private typeCast(n: Node, d: number): string {
    onlyKeys(n, 'a cast', ['arg', 'typeName']);
    const tn = n['typeName'];
    if (!isNode(tn)) throw new FilterError('the filter has an unexpected cast');
    const typeNames = names(tn['names']) ?? [];
    const written = typeNames.join('.');
    const last = typeNames.length === 2 && typeNames[0] === 'pg_catalog' ? typeNames[1] : typeNames[0];
    const canonical = typeNames.length <= 2 && last !== undefined ? TYPES[last] : undefined;
    const plain = typeNames.length === 1 || typeNames[0] === 'pg_catalog';
    if (!canonical || !plain) {
      throw new FilterError(
        `cast to type ${written} is not allowed (allowed: text, integer, bigint, numeric, date, timestamp, boolean)`,
      );
    }
    for (const k of Object.keys(tn)) {
      if (!['names', 'typemod', 'location'].includes(k)) {
        throw new FilterError(`cast to type ${written} with modifiers, arrays or SETOF is not allowed`);
      }
    }
    const arg = n['arg'];
    if (DATE_TIME_TYPES.has(canonical)) this.dateTimeOperand(arg, canonical);
    // The operand of a cast to a type that is not a date or time is read as that type, never as a date.
    this.markPlainText(arg);
    return `CAST(${this.expr(arg, d)} AS pg_catalog.${canonical})`;
  }

  /**
   * What may be cast to date or timestamp: a column, NULL, or a literal absolute ISO 8601 date/time.
   * Not a computed value: `'yesterday'::text::date`, `lower('now')::timestamp` are read at read time.
   */
  private dateTimeOperand(arg: unknown, type: string): void {
    const [kind, n] = unwrap(arg);
    if (kind === 'ColumnRef' || (kind === 'A_Const' && n['isnull'] === true)) return;
    const text = stringConst(arg);
    if (text === undefined) {
      throw new FilterError(
        `cast to ${type} is only allowed from a column or a literal such as '2024-03-01', not from ` +
          `${describeOperand(arg)}: a computed value could be read relative to the time of the read`,
      );
    }
    const word = relativeTimeWord(text);
    if (word !== undefined) {
      throw relativeTimeError(text.trim(), word, `use a literal date such as '2024-03-01'`);
    }
    if (!ABSOLUTE_DATE_TIME.test(text)) {
      throw new FilterError(
        `cast of ${shown(text)} to ${type} is not allowed: write an absolute date as YYYY-MM-DD ` +
          `(or a date and time as YYYY-MM-DD HH:MM[:SS], optionally with a UTC offset)`,
      );
    }
    this.markPlainText(arg); // checked here; nothing more to check in constant()
  }

  /**
   * substring(x, start[, count]) and substr: positions only, as integers. substring(text, text) is a POSIX
   * regular expression and substring(x SIMILAR p ESCAPE e) arrives here as substring(x, p, e): a string
   * literal in a position is refused, anything else is cast to integer so PostgreSQL can only pick the
   * positional form.
   */
  private positions(fn: string, args: unknown[], d: number): string[] {
    return args.map((a, i) => {
      if (i === 0) return this.expr(a, d);
      if (stringConst(a) !== undefined) {
        throw new FilterError(
          fn === 'substring'
            ? `substring with a text pattern is not allowed in substring(…): it would be a regular expression ` +
                `or a SIMILAR pattern; use LIKE or ILIKE to match, and substring(x, start, count) with numbers`
            : `substr with a text start or count is not allowed: use numbers, substr(x, start, count)`,
        );
      }
      const [kind, n] = unwrap(a);
      const sql = this.expr(a, d);
      return kind === 'A_Const' && 'ival' in n ? sql : `CAST(${sql} AS pg_catalog.int4)`;
    });
  }

  private funcCall(n: Node, d: number): string {
    const fn = names(n['funcname']) ?? [];
    const written = fn.join('.');
    const short = fn.length === 2 && fn[0] === 'pg_catalog' ? fn[1] : fn.length === 1 ? fn[0] : undefined;
    const spec = short !== undefined && Object.hasOwn(FUNCTIONS, short) ? FUNCTIONS[short] : undefined;
    if (!spec || short === undefined) {
      if (short !== undefined && VOLATILE.test(short)) {
        throw new FilterError(
          `function ${written} is not allowed: its result changes from one read to the next (compare with a literal value instead)`,
        );
      }
      throw new FilterError(
        `function ${written} is not allowed (allowed: ${Object.keys(FUNCTIONS).join(', ')}, coalesce, nullif, greatest, least)`,
      );
    }
    for (const k of Object.keys(n)) {
      if (!['funcname', 'args', 'funcformat', 'location'].includes(k)) {
        const what = k === 'over' ? 'window functions (OVER)' : k.startsWith('agg_') ? 'aggregates' : k;
        throw new FilterError(`${what} are not allowed (in ${written})`);
      }
    }
    const args = list(n['args']);
    if (args.length < spec.min || args.length > spec.max) {
      throw new FilterError(`function ${short} takes ${spec.min}–${spec.max} arguments, got ${args.length}`);
    }
    const emitted =
      short === 'substring' || short === 'substr'
        ? this.positions(short, args, d)
        : args.map((a) => this.expr(a, d));
    return `pg_catalog.${short}(${emitted.join(', ')})`;
  }
}

function describeNode(type: string): string {
  return type
    .replace(/^A_/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

const CLAUSES: Record<string, string> = {
  sortClause: 'ORDER BY',
  groupClause: 'GROUP BY',
  havingClause: 'HAVING',
  limitCount: 'LIMIT',
  limitOffset: 'OFFSET',
  lockingClause: 'FOR UPDATE/SHARE',
  windowClause: 'WINDOW',
  withClause: 'WITH',
  intoClause: 'INTO',
  distinctClause: 'DISTINCT',
};

/** The shape `SELECT 1 FROM t WHERE <filter>` must have: anything more was smuggled in by the filter. */
function whereClauseOf(parsed: unknown): unknown {
  const stmts = isNode(parsed) ? list(parsed['stmts']) : [];
  if (stmts.length !== 1) {
    throw new FilterError(`only one expression is allowed (found ${stmts.length} statements)`);
  }
  const stmt = stmts[0];
  const [type, sel] = unwrap(isNode(stmt) ? stmt['stmt'] : undefined);
  if (type !== 'SelectStmt') throw new FilterError('only an expression is allowed');
  const extra = Object.keys(sel).filter(
    (k) => !['targetList', 'fromClause', 'whereClause', 'limitOption', 'op'].includes(k),
  );
  if (sel['op'] !== 'SETOP_NONE') throw new FilterError('UNION, INTERSECT and EXCEPT are not allowed');
  if (extra.length > 0 || sel['limitOption'] !== 'LIMIT_OPTION_DEFAULT') {
    const words = extra.map((k) => CLAUSES[k] ?? k);
    throw new FilterError(`only a boolean expression is allowed (found ${words.join(', ') || 'LIMIT'})`);
  }
  const from = list(sel['fromClause']);
  const fromOk =
    from.length === 1 &&
    JSON.stringify(from[0]) ===
      JSON.stringify({ RangeVar: { relname: 't', inh: true, relpersistence: 'p', location: 14 } });
  const targetOk =
    JSON.stringify(sel['targetList']) ===
    JSON.stringify([{ ResTarget: { val: { A_Const: { ival: { ival: 1 }, location: 7 } }, location: 7 } }]);
  if (!fromOk || !targetOk) throw new FilterError('only a boolean expression is allowed');
  if (sel['whereClause'] === undefined) throw new FilterError('the filter is empty');
  return sel['whereClause'];
}

/**
 * Check a filter against the source's real columns and return SQL emitted from the validated tree.
 * Throws FilterError naming what was refused. Needs no database: `columns` comes from describeSource.
 */
export async function validateFilter(text: string, columns: readonly string[]): Promise<ValidatedFilter> {
  await ready();
  if (typeof text !== 'string' || text.trim() === '') throw new FilterError('the filter is empty');
  if (text.length > FILTER_LIMITS.maxLength) {
    throw new FilterError(
      `the filter is too long (${text.length} characters, at most ${FILTER_LIMITS.maxLength})`,
    );
  }
  if (text.includes('\0')) throw new FilterError('NUL characters are not allowed in the filter');
  const wrapped = PREFIX + text;
  let parsed: unknown;
  try {
    parsed = parseSync(wrapped);
  } catch (err) {
    const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const pos = details?.cursorPosition !== undefined ? details.cursorPosition - PREFIX.length : undefined;
    const where = pos !== undefined && pos >= 0 ? ` at character ${pos + 1}` : '';
    throw new FilterError(`the filter is not valid SQL${where}: ${(err as Error).message}`);
  }
  // The lexer knows where strings end, so these checks can't be fooled by `--` or `;` inside a literal.
  for (const token of scanSync(wrapped).tokens) {
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') {
      throw new FilterError(`comments are not allowed in a filter (found ${token.text.slice(0, 2)})`);
    }
    if (token.text === ';') throw new FilterError("only one expression is allowed (found ';')");
  }
  const emitter = new Emitter(columns);
  const sql = emitter.expr(whereClauseOf(parsed), 0);
  if (sql.length > FILTER_LIMITS.maxSqlLength) throw new FilterError('the filter is too complex');
  return { text, sql: `(${sql})`, columns: emitter.used };
}
