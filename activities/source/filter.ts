/**
 * The source filter (DESIGN §7): a user-written SQL boolean expression over the source's columns, checked
 * with PostgreSQL's own parser (libpg-query) against an allow-list, then RE-EMITTED from the validated tree.
 *
 * Why re-emit instead of pasting the approved text into the WHERE clause: the text is only as safe as our
 * reading of it, and PostgreSQL's lexer has many corners (dollar quotes, `U&"…"` escapes, `E'\''`,
 * `standard_conforming_strings`, nested comments). Re-emitting means the SQL that runs contains only what the
 * checker saw: every column double-quoted from the known column list, every string literal re-quoted by us,
 * every function and type schema-qualified with `pg_catalog` (so a same-named function or type in `public`
 * can't be substituted), every sub-expression parenthesised (so precedence is the parser's, not a guess).
 *
 * Time-dependent functions (`now()`, `current_date`, `random()`, …) are refused, not allow-listed: a batch's
 * load is paged and may be retried, so the filter must select the same rows every time it is evaluated.
 * So are explicit casts of 'now'/'today'/'tomorrow'/'yesterday' to date or timestamp. (A bare `created > 'now'`
 * against a timestamp column is cast implicitly by PostgreSQL and can't be seen without types: not caught.)
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

/** Limits that keep a hostile filter from costing much even before it reaches PostgreSQL. */
export const FILTER_LIMITS = { maxLength: 10_000, maxNodes: 2_000, maxDepth: 64 } as const;

const PREFIX = 'SELECT 1 FROM t WHERE ';

/** Binary (and unary + / -) operators allowed in `A_Expr` of kind AEXPR_OP. */
const OPERATORS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '||']);
const LIKE_OPERATORS: Record<string, string> = {
  '~~': 'LIKE',
  '!~~': 'NOT LIKE',
  '~~*': 'ILIKE',
  '!~~*': 'NOT ILIKE',
};

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

class Emitter {
  private nodes = 0;
  readonly used: string[] = [];

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
      return quoteLiteral(s);
    }
    throw new FilterError('bit-string and other special literals are not allowed');
  }

  private aExpr(n: Node, d: number): string {
    onlyKeys(n, 'an operator', ['kind', 'name', 'lexpr', 'rexpr', 'rexpr_list_start', 'rexpr_list_end']);
    const kind = String(n['kind']);
    const op = names(n['name']);
    if (!op || op.length !== 1) {
      throw new FilterError('schema-qualified operators (OPERATOR(schema.op)) are not allowed');
    }
    const name = op[0] as string;
    switch (kind) {
      case 'AEXPR_OP': {
        if (!OPERATORS.has(name)) throw new FilterError(`operator ${name} is not allowed`);
        const right = this.expr(n['rexpr'], d);
        if (n['lexpr'] === undefined) {
          if (name !== '-' && name !== '+') throw new FilterError(`prefix operator ${name} is not allowed`);
          return `(${name} ${right})`;
        }
        return `(${this.expr(n['lexpr'], d)} ${name} ${right})`;
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE': {
        const word = LIKE_OPERATORS[name];
        if (!word) throw new FilterError(`operator ${name} is not allowed`);
        return `(${this.expr(n['lexpr'], d)} ${word} ${this.expr(n['rexpr'], d)})`;
      }
      case 'AEXPR_IN': {
        if (name !== '=' && name !== '<>') throw new FilterError(`operator ${name} is not allowed`);
        const items = this.listItems(n['rexpr'], 'IN', d);
        if (items.length === 0) throw new FilterError('IN needs at least one value');
        return `(${this.expr(n['lexpr'], d)} ${name === '=' ? 'IN' : 'NOT IN'} (${items.join(', ')}))`;
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN':
      case 'AEXPR_BETWEEN_SYM':
      case 'AEXPR_NOT_BETWEEN_SYM': {
        const items = this.listItems(n['rexpr'], 'BETWEEN', d);
        if (items.length !== 2) throw new FilterError('BETWEEN needs two bounds');
        const word = {
          AEXPR_BETWEEN: 'BETWEEN',
          AEXPR_NOT_BETWEEN: 'NOT BETWEEN',
          AEXPR_BETWEEN_SYM: 'BETWEEN SYMMETRIC',
          AEXPR_NOT_BETWEEN_SYM: 'NOT BETWEEN SYMMETRIC',
        }[kind];
        return `(${this.expr(n['lexpr'], d)} ${word} ${items[0]} AND ${items[1]})`;
      }
      case 'AEXPR_DISTINCT':
      case 'AEXPR_NOT_DISTINCT': {
        const word = kind === 'AEXPR_DISTINCT' ? 'IS DISTINCT FROM' : 'IS NOT DISTINCT FROM';
        return `(${this.expr(n['lexpr'], d)} ${word} ${this.expr(n['rexpr'], d)})`;
      }
      case 'AEXPR_NULLIF':
        return `NULLIF(${this.expr(n['lexpr'], d)}, ${this.expr(n['rexpr'], d)})`;
      case 'AEXPR_OP_ANY':
      case 'AEXPR_OP_ALL':
        throw new FilterError('ANY/ALL are not allowed: use IN (…)');
      case 'AEXPR_SIMILAR':
        throw new FilterError('SIMILAR TO is not allowed: use LIKE or ILIKE');
      default:
        throw new FilterError(`operator ${name} is not allowed`);
    }
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
    if (canonical === 'date' || canonical === 'timestamp') {
      // date 'today', 'now'::timestamp…: special inputs PostgreSQL evaluates at read time.
      const arg = n['arg'];
      const lit = isNode(arg) && isNode(arg['A_Const']) ? arg['A_Const']['sval'] : undefined;
      const text = isNode(lit) ? lit['sval'] : undefined;
      if (typeof text === 'string' && /^\s*(now|today|tomorrow|yesterday)\s*$/i.test(text)) {
        throw new FilterError(
          `'${text.trim()}' is not allowed: it changes from one read to the next (use a literal date such as '2024-03-01')`,
        );
      }
    }
    return `CAST(${this.expr(n['arg'], d)} AS pg_catalog.${canonical})`;
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
    return `pg_catalog.${short}(${args.map((a) => this.expr(a, d)).join(', ')})`;
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
  return { text, sql: `(${sql})`, columns: emitter.used };
}
