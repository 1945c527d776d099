/**
 * The code that runs INSIDE the template isolate (see isolate.ts). `installSandbox` is shipped into the
 * isolate as source text (`installSandbox.toString()`), so it must stay self-contained: no imports, no
 * module-level names, only its parameters and the isolate's own built-ins. It:
 * - configures nunjucks' browser build: a loader that refuses every file, filters and tests looked up by
 *   own name only, member lookup that refuses constructor/__proto__/… and any member of a function,
 *   names resolved from the render context's OWN properties, capped built-in filters;
 * - escapes every `{{ value }}` for a JSON string (autoescape with a JSON-string escape; `| json` writes raw
 *   JSON) and proves afterwards that each value stayed data: a value inside quotes stays in that string, a
 *   value outside quotes must be one number/true/false/null, and `| json` stands where a JSON value goes;
 * - counts every output character (literal text and `{% set %}` captures too), operations, and JSON depth;
 * - compiles the batch's template, then freezes every object reachable from the global object (and the
 *   hidden intrinsics), so no render can leave state behind for the next row. RegExp and its prototype
 *   are the one exception (V8's fast regexp paths need them pristine); a tripwire checks them per page.
 */

import type { FilterSet } from './filters';

/** Limits applied inside the isolate, per row. */
export interface SandboxLimits {
  maxOutputChars: number;
  maxOperations: number;
  maxRange: number;
  maxDepth: number;
  /** Width/count arguments of built-in filters (center, indent, batch, slice, truncate) and string padding. */
  maxWidth: number;
  /** Items in a list built by a built-in filter or a string method. */
  maxItems: number;
}

/** Configuration passed (as JSON) to `installSandbox`. */
export interface SandboxConfig {
  limits: SandboxLimits;
  templateSource: string;
  shipperJson: string;
  batchJson: string;
}

/** One row's outcome: the rendered text, or an error message. */
export type SandboxRowResult = { o: string } | { e: string };

/**
 * A page leaves the isolate as ONE string (a single copy, no per-row objects): the rows' results joined
 * by U+E000, an error marked by a leading U+E001. Finished output never holds U+E000–U+E003 (values are
 * \u-escaped, templates holding them are refused) and error messages have them replaced.
 */
export const PAGE_SEPARATOR = '\uE000';
export const ERROR_MARK = '\uE001';

/** A function as nunjucks holds them (filters, globals, methods). */
type Fn = (...args: unknown[]) => unknown;
type Dict = Record<string, unknown>;

/** The parts of nunjucks' browser build (3.2.x) this file uses; the build itself is untyped. */
export interface NunjucksBrowser {
  runtime: {
    SafeString: new (s: string) => object;
    Frame: {
      prototype: { set: (this: unknown, name: string, val: unknown, resolveUp?: unknown) => unknown };
    };
    memberLookup: (obj: unknown, val: unknown) => unknown;
    contextOrFrameLookup: (context: NjContext, frame: NjFrame, name: string) => unknown;
    callWrap: (fn: unknown, name: string, context: unknown, args: unknown[]) => unknown;
    suppressValue: (val: unknown, autoescape?: unknown) => string;
    /** Added here: literal template text, counted. */
    literal?: (s: string) => string;
  };
  lib: { extend: (a: Dict | undefined, b: Dict | undefined) => Dict; _assign: unknown };
  compiler: { Compiler: { prototype: NjCompilerMethods } };
  nodes: { TemplateData: abstract new (...args: never[]) => object };
  Loader: { extend(def: { getSource(name: string): unknown }): new () => object };
  Environment: new (
    loader: object,
    opts: { autoescape: boolean; throwOnUndefined: boolean },
  ) => NjEnvironment;
  Template: new (
    src: string,
    env: NjEnvironment,
    path: string,
    eagerCompile: boolean,
  ) => { render(ctx: object): string };
}
interface NjFrame {
  lookup(name: string): unknown;
}
interface NjContext {
  ctx: Dict;
  env: { globals: Dict };
}
interface NjNode {
  children: NjNode[];
  value?: unknown;
  lineno: number;
  colno: number;
}
interface NjCompiler {
  buffer: string;
  _emit(code: string): void;
  _emitLine(code: string): void;
  compile(node: NjNode, frame: unknown): void;
  compileLiteral(node: NjNode, frame: unknown): void;
}
interface NjCompilerMethods {
  compileOutput: (this: NjCompiler, node: NjNode, frame: unknown) => void;
  compileCapture: (this: NjCompiler, node: NjNode, frame: unknown) => void;
}
interface NjEnvironment {
  filters: Record<string, Fn>;
  tests: Record<string, Fn>;
  globals: Dict;
  getFilter: (name: string) => unknown;
  getTest: (name: string) => unknown;
  addFilter: Fn;
  addGlobal: Fn;
  addTest: Fn;
  addExtension: Fn;
}

/**
 * Set up nunjucks in the isolate and return '' on success or the template's compile error. Installs
 * `globalThis.__renderPage(rowsJson)` (returning the page string, see PAGE_SEPARATOR) before freezing everything.
 */
export function installSandbox(
  nj: NunjucksBrowser,
  createFiltersFn: () => FilterSet,
  cfg: SandboxConfig,
): string {
  const L = cfg.limits;
  const hasOwn = (o: unknown, k: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, k);
  const rt = nj.runtime;
  const lib = nj.lib;

  class TemplateSecurityError extends Error {}
  Object.defineProperty(TemplateSecurityError.prototype, 'name', { value: 'TemplateSecurityError' });
  const refuse = (msg: string): never => {
    throw new TemplateSecurityError(msg);
  };

  // ---- per-row budget (reset before each row; only this code writes it) ----
  let ops = 0;
  let out = 0;
  const spend = (n: number): void => {
    if ((ops += n) > L.maxOperations)
      refuse(`the template does too much work (more than ${L.maxOperations} operations per row)`);
  };
  const emit = (n: number): void => {
    if ((out += n) > L.maxOutputChars)
      refuse(`the template output is larger than ${L.maxOutputChars} characters`);
  };
  const checkSize = (v: unknown, what: string): unknown => {
    if (typeof v === 'string' && v.length > L.maxOutputChars)
      refuse(`${what} built a text longer than ${L.maxOutputChars} characters`);
    if (Array.isArray(v) && v.length > L.maxItems)
      refuse(`${what} built a list longer than ${L.maxItems} items`);
    return v;
  };

  // ---- JSON-string escape and the value markers ----
  // Private-use characters mark where each escaped value (V) and each `| json` value (J) starts and ends,
  // so the finished text can be checked; they never reach the host (values carrying them are \u-escaped,
  // and a template containing them is refused).
  const V0 = '\uE000';
  const V1 = '\uE001';
  const J0 = '\uE002';
  const J1 = '\uE003';
  const MARKERS = /[\uE000-\uE003]/g;
  // Fast path: most values need no escaping at all.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what needs escaping
  const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff\ue000-\ue003]*$/;
  const escapeJson = (s: string): string => {
    if (PLAIN.test(s)) return s;
    const inner = JSON.stringify(s).slice(1, -1);
    return inner.replace(MARKERS, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  };
  const SafeString = rt.SafeString;
  /** A value as nunjucks prints it ("[object Object]" for a plain object, as stock nunjucks does). */
  const text = (v: unknown): string => `${v as string}`;
  const markSafe = (s: string): unknown => new SafeString(s);

  /** Check the value markers and JSON nesting of a finished render, and strip the markers. */
  const CUT =
    'a filter cut or reordered an escaped {{ value }} (e.g. truncate or reverse of a {% set %} block)';
  const finish = (text: string): string => {
    let res = '';
    let seg = 0;
    let inStr = false;
    let depth = 0;
    let strings = 0;
    // The open marker: 0 none, 1 a value, 2 a `| json` value; where and in which string it opened.
    let open = 0;
    let openInStr = false;
    let openStrings = 0;
    let openAt = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (inStr) {
        if (c === 34) {
          inStr = false;
          strings++;
          continue;
        }
        if (c === 92) {
          // A backslash escapes the next character, whatever it is: skip it (a value must not be it).
          const e = text.charCodeAt(i + 1);
          if (e >= 0xe000 && e <= 0xe003)
            refuse('a {{ value }} must not follow a backslash inside a JSON string');
          i++;
          continue;
        }
        if (c < 0xe000 || c > 0xe003) continue;
      } else if (c === 34) {
        inStr = true;
        continue;
      } else if (c === 123 || c === 91) {
        if (++depth > L.maxDepth) refuse(`the template output is nested deeper than ${L.maxDepth} levels`);
        continue;
      } else if (c === 125 || c === 93) {
        depth--;
        continue;
      } else if (c < 0xe000 || c > 0xe003) continue;
      // A marker: cut it out and check the value it opens or closes.
      res += text.slice(seg, i);
      seg = i + 1;
      if (c === 0xe000 || c === 0xe002) {
        if (open) refuse(CUT);
        if (c === 0xe002 && inStr)
          refuse('`| json` writes a whole JSON value (quotes included): do not put it inside quotes');
        open = c === 0xe000 ? 1 : 2;
        openInStr = inStr;
        openStrings = strings;
        openAt = res.length;
        continue;
      }
      if (!open) refuse(CUT);
      const kind = open;
      open = 0;
      if (kind === 2) {
        if (inStr) refuse('`| json` value is not a complete JSON value');
      } else if (openInStr) {
        if (!inStr || strings !== openStrings) refuse('internal: a value left its JSON string');
      } else {
        const v = res.slice(openAt).trim();
        if (
          inStr ||
          !(v === '' || /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) || /^(true|false|null)$/.test(v))
        ) {
          const shown = v.length > 60 ? `${v.slice(0, 60)}…` : v;
          refuse(
            `the value ${JSON.stringify(shown)} is written outside a JSON string, where only a number, ` +
              'true, false or null may stand: put the {{ … }} inside quotes or use | json',
          );
        }
      }
    }
    if (open) refuse(CUT);
    return seg === 0 ? text : res + text.slice(seg);
  };

  // ---- runtime hooks ----
  const BLOCKED = new Set([
    'constructor',
    'prototype',
    '__proto__',
    '__defineGetter__',
    '__defineSetter__',
    '__lookupGetter__',
    '__lookupSetter__',
    'caller',
    'callee',
    'arguments',
    'bind',
    'call',
    'apply',
    'valueOf',
    'toString',
    'toLocaleString',
    'hasOwnProperty',
    'isPrototypeOf',
    'propertyIsEnumerable',
  ]);

  const callMethod = (obj: unknown, fn: Fn, name: string) =>
    function (...args: unknown[]): unknown {
      spend(1);
      if (typeof obj === 'string' && (name === 'repeat' || name === 'padStart' || name === 'padEnd')) {
        const n = name === 'repeat' ? obj.length * Number(args[0]) : Number(args[0]);
        if (!(n <= L.maxOutputChars))
          refuse(`${name}() would build a text longer than ${L.maxOutputChars} characters`);
      }
      const r = fn.apply(obj, args);
      if (unescapes([obj], r)) refuse(`${name}() ${UNESCAPED}`);
      return checkSize(r, `${name}()`);
    };

  rt.memberLookup = (obj: unknown, val: unknown): unknown => {
    spend(1);
    if (obj === undefined || obj === null) return undefined;
    if (typeof val !== 'string' && typeof val !== 'number') refuse('member names must be text or numbers');
    const key = val as string | number;
    if (typeof obj === 'function')
      refuse(`functions have no readable members in templates ("${String(key)}")`);
    // A row's own data is data, whatever its name (a column may be called "constructor" or "__proto__").
    const own = hasOwn(obj, key);
    if (!own && BLOCKED.has(String(key))) refuse(`access to "${String(key)}" is not allowed in templates`);
    const v = (obj as Record<string | number, unknown>)[key];
    if (typeof v === 'function') return callMethod(obj, v as Fn, String(key));
    return v;
  };

  rt.contextOrFrameLookup = (context: NjContext, frame: NjFrame, name: string): unknown => {
    const v = frame.lookup(name);
    if (v !== undefined) return v;
    const c = context.ctx;
    if (hasOwn(c, name)) return c[name];
    const g = context.env.globals;
    if (hasOwn(g, name)) return g[name];
    return refuse(`undefined variable "${name}"`);
  };

  // Functions are called without a `this` (nunjucks would pass the render Context).
  rt.callWrap = (fn: unknown, name: string, _context: unknown, args: unknown[]): unknown => {
    spend(1);
    if (typeof fn !== 'function') refuse(`"${name}" is not a function`);
    // Called with no `this` (nunjucks passes its render Context), hence apply and not a plain call.
    // eslint-disable-next-line prefer-spread
    return checkSize((fn as Fn).apply(undefined, args), `${name}()`);
  };

  rt.suppressValue = (val: unknown): string => {
    let s: string;
    if (val instanceof SafeString) s = text(val);
    else s = V0 + escapeJson(val === undefined || val === null ? '' : text(val)) + V1;
    emit(s.length);
    return s;
  };
  /** Literal template text, counted against the output limit (the compiler patch below emits this). */
  rt.literal = (s: string): string => {
    emit(s.length);
    return s;
  };

  const frameSet = rt.Frame.prototype.set;
  rt.Frame.prototype.set = function (this: unknown, name: string, val: unknown, resolveUp: unknown): unknown {
    spend(1);
    if (name === 'loop') refuse('"loop" is reserved for the loop variable: choose another name');
    return frameSet.call(this, name, val, resolveUp);
  };

  // lib.extend copies the render context: never through the __proto__ setter.
  lib.extend = lib._assign = (a: Dict | undefined, b: Dict | undefined): Dict => {
    const o = a || {};
    const from = b || {};
    for (const k of Object.keys(from)) {
      if (k === '__proto__')
        Object.defineProperty(o, k, { value: from[k], writable: true, enumerable: true, configurable: true });
      else o[k] = from[k];
    }
    return o;
  };

  // ---- compiler: literal text and captures ----
  const Compiler = nj.compiler.Compiler;
  const nodes = nj.nodes;
  Compiler.prototype.compileOutput = function (this: NjCompiler, node: NjNode, frame: unknown): void {
    for (const child of node.children) {
      if (child instanceof nodes.TemplateData) {
        if (child.value) {
          this._emit(`${this.buffer} += runtime.literal(`);
          this.compileLiteral(child, frame);
          this._emitLine(');');
        }
      } else {
        this._emit(`${this.buffer} += runtime.suppressValue(`);
        this._emit('runtime.ensureDefined(');
        this.compile(child, frame);
        this._emit(`,${node.lineno},${node.colno}), true);\n`);
      }
    }
  };
  // A capture holds output that is already escaped: mark it safe so it is not escaped twice.
  const compileCapture = Compiler.prototype.compileCapture;
  Compiler.prototype.compileCapture = function (this: NjCompiler, node: NjNode, frame: unknown): void {
    this._emit('runtime.markSafe(');
    compileCapture.call(this, node, frame);
    this._emit(')');
  };

  // ---- environment ----
  const RefusingLoader = nj.Loader.extend({
    getSource(name: string) {
      return refuse(`templates cannot include, import or extend other files ("${String(name)}")`);
    },
  });
  const env = new nj.Environment(new RefusingLoader(), { autoescape: true, throwOnUndefined: true });

  const filters = Object.create(null) as Record<string, Fn>;
  const stock = env.filters;
  for (const k of Object.keys(stock)) filters[k] = stock[k]!;
  const capArg = (name: string, idx: number) => {
    const f = filters[name]!;
    filters[name] = function (this: unknown, ...a: unknown[]): unknown {
      const n = a[idx];
      if (n !== undefined && n !== null && !(Math.abs(Number(n)) <= L.maxWidth))
        refuse(`${name}: the size ${text(n)} is larger than ${L.maxWidth}`);
      return checkSize(f.apply(this, a), name);
    };
  };
  // A filter (or method) that turns an escaped block ({% set %} capture, macro output) into plain text
  // would have it escaped a second time: refused, rather than shipping escape sequences as data.
  const MARKED = /[\uE000-\uE003]/;
  const unescapes = (args: readonly unknown[], result: unknown): boolean =>
    typeof result === 'string' && args.some((x) => x instanceof SafeString && MARKED.test(text(x)));
  const UNESCAPED =
    'turned an escaped block ({% set %} … {% endset %}, {% filter %} or a macro) into plain text: ' +
    'apply it to the values inside the block instead';
  for (const k of Object.keys(filters)) {
    const f = filters[k]!;
    filters[k] = function (this: unknown, ...a: unknown[]): unknown {
      const r = f.apply(this, a);
      if (unescapes(a, r)) refuse(`the filter ${k} ${UNESCAPED}`);
      return r;
    };
  }
  capArg('batch', 1);
  capArg('slice', 1);
  capArg('center', 1);
  capArg('indent', 1);
  capArg('truncate', 1);
  // Filters that put an argument INTO a safe (already escaped) text would write that argument raw: a row
  // value given as the replacement of `replace` or the `end` of `truncate` is escaped (and marked) first.
  const intoSafe = (subject: unknown, v: unknown): unknown =>
    subject instanceof SafeString && !(v instanceof SafeString) && v !== undefined && v !== null
      ? V0 + escapeJson(text(v)) + V1
      : v;
  const replace = filters['replace']!;
  filters['replace'] = function (
    this: unknown,
    str: unknown,
    old: unknown,
    by: unknown,
    max: unknown,
  ): unknown {
    return replace.call(this, str, old, intoSafe(str, by), max);
  };
  const truncate = filters['truncate']!;
  filters['truncate'] = function (
    this: unknown,
    s: unknown,
    n: unknown,
    kill: unknown,
    end: unknown,
  ): unknown {
    return truncate.call(this, s, n, kill, intoSafe(s, end));
  };
  const ownAttr = (item: unknown, attr: unknown): unknown =>
    item !== null && typeof item === 'object' && hasOwn(item, attr as string)
      ? (item as Dict)[attr as string]
      : undefined;
  const list = (arr: unknown, what: string): unknown[] =>
    Array.isArray(arr) ? arr : refuse(`${what}: needs a list`);
  filters['selectattr'] = (arr: unknown, attr: unknown) =>
    list(arr, 'selectattr').filter((x) => !!ownAttr(x, attr));
  filters['rejectattr'] = (arr: unknown, attr: unknown) =>
    list(arr, 'rejectattr').filter((x) => !ownAttr(x, attr));
  filters['sum'] = (arr: unknown, attr?: unknown, start: unknown = 0): unknown =>
    list(arr, 'sum')
      .map((x) => (attr ? ownAttr(x, attr) : x))
      .reduce((a: unknown, b: unknown) => (a as number) + (b as number), start);
  // Groups in a null-prototype object: a group named "constructor" or "__proto__" is just a group.
  filters['groupby'] = (arr: unknown, attr: unknown): unknown => {
    const groups = Object.create(null) as Record<string, unknown[]>;
    for (const x of list(arr, 'groupby')) (groups[text(ownAttr(x, attr))] ??= []).push(x);
    return groups;
  };
  filters['dictsort'] = (val: unknown, caseSensitive?: unknown, by?: unknown): unknown => {
    if (val === null || typeof val !== 'object' || Array.isArray(val)) refuse('dictsort: needs an object');
    const si =
      by === 'value' ? 1 : by === undefined || by === 'key' ? 0 : refuse('dictsort: by must be key or value');
    const norm = (v: unknown) => (!caseSensitive && typeof v === 'string' ? v.toLowerCase() : v);
    const obj = val as Dict;
    return Object.keys(obj)
      .map((k): [string, unknown] => [k, obj[k]])
      .sort((a, b) => {
        const x = norm(a[si]) as string;
        const y = norm(b[si]) as string;
        return x > y ? 1 : x === y ? 0 : -1;
      });
  };
  const jsonFilter = (v: unknown): unknown => {
    let s: string | undefined;
    try {
      s = JSON.stringify(v === undefined ? null : v);
    } catch (e) {
      refuse(`json: ${(e as Error).message}`);
    }
    return markSafe(J0 + (s ?? 'null').replace(MARKERS, (c) => `\\u${c.charCodeAt(0).toString(16)}`) + J1);
  };
  filters['json'] = jsonFilter;
  filters['dump'] = jsonFilter;
  // In a JSON template, "escape" means escaping for a JSON string.
  const jsonEscapeFilter = (v: unknown): unknown =>
    v instanceof SafeString
      ? v
      : markSafe(V0 + escapeJson(v === undefined || v === null ? '' : text(v)) + V1);
  filters['escape'] = jsonEscapeFilter;
  filters['e'] = jsonEscapeFilter;
  filters['forceescape'] = jsonEscapeFilter;
  filters['safe'] = () =>
    refuse('the safe filter is not available: values are escaped for JSON strings; use | json for raw JSON');
  const seed = createFiltersFn().FILTERS;
  for (const k of Object.keys(seed)) filters[k] = seed[k] as Fn;
  const tests = Object.create(null) as Record<string, Fn>;
  for (const k of Object.keys(env.tests)) tests[k] = env.tests[k]!;
  env.filters = filters;
  env.tests = tests;
  env.getFilter = (name: string): unknown =>
    hasOwn(filters, name) ? filters[name] : refuse(`unknown filter "${String(name)}"`);
  env.getTest = (name: string): unknown =>
    hasOwn(tests, name) ? tests[name] : refuse(`unknown test "${String(name)}"`);
  env.addFilter =
    env.addGlobal =
    env.addTest =
    env.addExtension =
      () => refuse('the environment is read-only');

  const range = (start: unknown, stop?: unknown, step: unknown = 1): number[] => {
    let a = Number(start);
    let b = Number(stop);
    const s = Number(step);
    if (stop === undefined) {
      b = a;
      a = 0;
    }
    if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(s) || s === 0)
      refuse('range() needs finite numbers and a step other than 0');
    const n = Math.max(0, Math.ceil((b - a) / s));
    if (n > L.maxRange) refuse(`range() is limited to ${L.maxRange} items`);
    spend(n);
    const r: number[] = [];
    for (let i = 0; i < n; i++) r.push(a + i * s);
    return r;
  };
  const globals = Object.create(null) as Dict;
  globals['range'] = range;
  globals['cycler'] = env.globals.cycler;
  globals['joiner'] = env.globals.joiner;
  env.globals = globals;

  // ---- the batch's data and template ----
  /**
   * Freeze `root` and everything reachable from it: own properties and accessors, and (unless `data`)
   * prototypes. Data (rows, shipper, batch) comes from JSON.parse: its prototypes are the built-ins, frozen
   * once at the end of setup, and an already frozen part of it needs no second walk.
   */
  const deepFreeze = (root: unknown, data: boolean): void => {
    const seen = new WeakSet<object>();
    const stack: unknown[] = [root];
    while (stack.length) {
      const o = stack.pop();
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
      // RegExp and its prototype stay unfrozen: V8 takes its fast regexp paths only while RegExp.prototype
      // has its initial shape (freezing it made every render ~30% slower). Templates cannot reach them
      // (constructor/prototype/__proto__ are refused), and a tripwire checks them after every page.
      if (!data && (o === RegExp || o === RegExp.prototype)) continue;
      if (data && Object.isFrozen(o)) continue;
      seen.add(o);
      Object.freeze(o);
      for (const k of Reflect.ownKeys(o)) {
        // value, get and set (and the flags, which are skipped as primitives)
        for (const part of Object.values(Object.getOwnPropertyDescriptor(o, k)!)) stack.push(part);
      }
      if (!data) stack.push(Object.getPrototypeOf(o));
    }
  };
  /** Freeze parsed JSON data (a row): plain objects and arrays only, so no walk of prototypes is needed. */
  const freezeData = (v: unknown, depth: number): void => {
    if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
    if (depth > 64) refuse('the row is nested deeper than 64 levels');
    Object.freeze(v);
    if (Array.isArray(v)) for (const x of v) freezeData(x, depth + 1);
    else for (const k of Object.keys(v)) freezeData((v as Record<string, unknown>)[k], depth + 1);
  };
  const shipper: unknown = JSON.parse(cfg.shipperJson);
  const batch: unknown = JSON.parse(cfg.batchJson);
  deepFreeze(shipper, true);
  deepFreeze(batch, true);

  let template: { render(ctx: object): string };
  try {
    if (/[\uE000-\uE003]/.test(cfg.templateSource))
      refuse('the template contains private-use characters U+E000–U+E003, which shipbatch reserves');
    template = new nj.Template(cfg.templateSource, env, 'template', true);
  } catch (e) {
    const err = e as { message?: unknown; lineno?: unknown; colno?: unknown };
    const msg = String(err?.message ?? e).replace(/^\(template\)\s*/, '');
    return typeof err?.lineno === 'number' && !/\[Line \d+/.test(msg)
      ? `[Line ${err.lineno}, Column ${String(err.colno)}] ${msg}`
      : msg;
  }

  const describe = (e: unknown): string => {
    const m = e instanceof Error ? e.message : String(e);
    return m
      .replace(/^\(template\)\s*/, '')
      .replace(/\b(TemplateSecurityError|FilterError): /, '')
      .replace(/\s+/g, ' ')
      .trim();
  };

  const renderRow = (row: Record<string, unknown>): SandboxRowResult => {
    ops = 0;
    out = 0;
    try {
      freezeData(row, 0);
      // Null prototype: a "__proto__" column becomes an own property, not the context's prototype.
      const ctx = Object.assign(Object.create(null) as Dict, row);
      ctx['row'] = row;
      ctx['shipper'] = shipper;
      ctx['batch'] = batch;
      return { o: finish(template.render(ctx)) };
    } catch (e) {
      return { e: describe(e) };
    }
  };

  /** RegExp and RegExp.prototype as set up: own keys and values. */
  const regexpShape = (): unknown[] => {
    const out: unknown[] = [];
    for (const o of [RegExp, RegExp.prototype] as object[])
      for (const k of Reflect.ownKeys(o)) {
        const parts: unknown[] = Object.values(Object.getOwnPropertyDescriptor(o, k)!);
        out.push(k, ...parts);
      }
    return out;
  };
  let regexpBefore: unknown[] = [];
  const regexpIntact = (): boolean => {
    const now = regexpShape();
    return now.length === regexpBefore.length && now.every((v, i) => Object.is(v, regexpBefore[i]));
  };

  const renderPage = (rowsJson: string): string => {
    const rows: unknown = JSON.parse(rowsJson);
    if (!Array.isArray(rows)) refuse('internal: a page must be a list of rows');
    const page = (rows as unknown[])
      .map((r: unknown) => {
        const res: SandboxRowResult =
          r !== null && typeof r === 'object' && !Array.isArray(r)
            ? renderRow(r as Record<string, unknown>)
            : { e: 'the row is not an object' };
        return 'o' in res ? res.o : `\uE001${res.e.replace(/[\uE000-\uE003]/g, '?')}`;
      })
      .join('\uE000');
    // Tripwire: should anything have changed the unfrozen RegExp, this page's results are void and the
    // isolate must go (the host replaces it on this error and renders the rows one by one).
    if (!regexpIntact())
      throw new Error('a template changed RegExp, which is shared: the isolate is discarded');
    return page;
  };
  Object.defineProperty(globalThis, '__renderPage', { value: renderPage });

  // ---- freeze everything reachable, so no row can leave state behind ----
  // Built-ins that frozen prototypes would otherwise break by assignment (the "override mistake"): an
  // accessor lets `err.name = …` define an own property on the instance.
  const tamperProof = (proto: object, key: string): void => {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (!d || !('value' in d)) return;
    const value = d.value as unknown;
    Object.defineProperty(proto, key, {
      get() {
        return value;
      },
      set(this: object, v: unknown) {
        if (this === proto) refuse(`cannot change ${key} of a built-in`);
        Object.defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: d.enumerable,
      configurable: false,
    });
  };
  for (const k of ['name', 'message']) tamperProof(Error.prototype, k);
  for (const k of ['toString', 'valueOf', 'constructor']) tamperProof(Object.prototype, k);
  tamperProof(SafeString.prototype as object, 'length'); // set per instance by nunjucks' SafeString constructor
  const hidden: unknown[] = [
    Object.getPrototypeOf([][Symbol.iterator]()),
    Object.getPrototypeOf(''[Symbol.iterator]()),
    Object.getPrototypeOf(new Map()[Symbol.iterator]()),
    Object.getPrototypeOf(new Set()[Symbol.iterator]()),
    Object.getPrototypeOf(/x/[Symbol.matchAll]('')),
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(async function* () {}),
    Object.getPrototypeOf(Int8Array),
  ];
  deepFreeze([globalThis, nj, env, template, filters, tests, globals, ...hidden], false);
  regexpBefore = regexpShape();
  return '';
}
