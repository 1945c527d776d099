/**
 * A nunjucks environment safe for untrusted templates:
 * - member lookup refuses constructor/prototype/__proto__ (and the legacy getter/setter hooks) and any
 *   member of a function, so `range.constructor("return process.pid")()` cannot reach Function;
 * - top-level names resolve only from the render context (never JS globals) and an unknown name is an
 *   error that names it;
 * - the loader refuses every file, so include/import/extends fail;
 * - autoescape off (output is JSON), an output size limit and a loop/operation budget per render.
 * The runtime patch is installed once per process and only changes behaviour for environments marked
 * as safe (the member-lookup block applies to all, which is only stricter).
 */
import nunjucks from 'nunjucks';
import { FILTERS } from './filters';

export const BLOCKED_MEMBERS: ReadonlySet<string> = new Set([
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
]);

export const MAX_OUTPUT_CHARS = 256 * 1024;
export const MAX_OPERATIONS = 100_000;
export const MAX_RANGE = 10_000;

/** A render that broke a safety rule. */
export class TemplateSecurityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSecurityError';
  }
}

/** Loader that refuses every template file: include/import/extends are not allowed. */
class RefusingLoader extends nunjucks.Loader {
  getSource(name: string): never {
    throw new TemplateSecurityError(`templates cannot include, import or extend other files ("${name}")`);
  }
}

interface Budget {
  ops: number;
  out: number;
}
let active: Budget | null = null;

function spend(n = 1): void {
  if (active && (active.ops += n) > MAX_OPERATIONS) {
    throw new TemplateSecurityError(
      `template does too much work (more than ${MAX_OPERATIONS} operations per row)`,
    );
  }
}

type Runtime = {
  memberLookup: (obj: unknown, val: unknown) => unknown;
  contextOrFrameLookup: (
    ctx: { env: unknown; lookup(n: string): unknown },
    frame: unknown,
    name: string,
  ) => unknown;
  suppressValue: (val: unknown, autoescape: boolean) => unknown;
  Frame: { prototype: { set: (...a: unknown[]) => unknown } };
};
const SAFE = Symbol.for('shipbatch.safeEnv');
let patched = false;

function patchRuntime(): void {
  if (patched) return;
  patched = true;
  const rt = (nunjucks as unknown as { runtime: Runtime }).runtime;
  const memberLookup = rt.memberLookup;
  rt.memberLookup = (obj, val) => {
    if (typeof val === 'string' && BLOCKED_MEMBERS.has(val)) {
      throw new TemplateSecurityError(`access to "${val}" is not allowed in templates`);
    }
    if (typeof obj === 'function') {
      throw new TemplateSecurityError(`functions have no readable members in templates ("${String(val)}")`);
    }
    if (typeof val !== 'string' && typeof val !== 'number') {
      throw new TemplateSecurityError('member names must be text or numbers');
    }
    spend();
    return memberLookup(obj, val);
  };
  const lookup = rt.contextOrFrameLookup;
  rt.contextOrFrameLookup = (ctx, frame, name) => {
    if (BLOCKED_MEMBERS.has(name) || Object.hasOwn(Object.prototype, name)) {
      throw new TemplateSecurityError(`access to "${name}" is not allowed in templates`);
    }
    const v = lookup(ctx, frame, name);
    if (v === undefined && (ctx.env as Record<symbol, unknown>)[SAFE]) {
      throw new TemplateSecurityError(`undefined variable "${name}"`);
    }
    return v;
  };
  const suppress = rt.suppressValue;
  rt.suppressValue = (val, autoescape) => {
    const r = suppress(val, autoescape);
    if (active) {
      active.out += typeof r === 'string' ? r.length : String(r).length;
      if (active.out > MAX_OUTPUT_CHARS) {
        throw new TemplateSecurityError(`template output is larger than ${MAX_OUTPUT_CHARS} characters`);
      }
    }
    return r;
  };
  const set = rt.Frame.prototype.set;
  rt.Frame.prototype.set = function (this: unknown, ...a: unknown[]) {
    spend();
    return set.apply(this, a);
  };
}

function safeRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (!step) throw new TemplateSecurityError('range step must not be 0');
  const n = Math.ceil((stop - start) / step);
  if (n > MAX_RANGE) throw new TemplateSecurityError(`range() is limited to ${MAX_RANGE} items`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(start + i * step);
  spend(out.length);
  return out;
}

/** Create the safe environment with the shipbatch filters. */
export function createTemplateEnvironment(): nunjucks.Environment {
  patchRuntime();
  const env = new nunjucks.Environment(new RefusingLoader(), { autoescape: false, throwOnUndefined: true });
  (env as unknown as Record<symbol, unknown>)[SAFE] = true;
  for (const [name, fn] of Object.entries(FILTERS)) env.addFilter(name, fn as (...a: unknown[]) => unknown);
  // json-safe string filter, handy in templates: {{ x | json }}
  env.addFilter('json', (v: unknown) => JSON.stringify(v ?? null));
  // Filters whose width argument could build huge strings: capped.
  const center = env.getFilter('center') as (s: string, w: number) => string;
  env.addFilter('center', (s: string, w = 80) => center(s, Math.min(Number(w) || 0, 1000)));
  const indent = env.getFilter('indent') as (s: string, w: number, f: boolean) => string;
  env.addFilter('indent', (s: string, w = 4, f: unknown = false) =>
    indent(s, Math.min(Number(w) || 0, 100), Boolean(f)),
  );
  env.addGlobal('range', safeRange);
  return env;
}

let shared: nunjucks.Environment | undefined;
export function templateEnvironment(): nunjucks.Environment {
  return (shared ??= createTemplateEnvironment());
}

/** Compile a template source once (per batch). Syntax errors throw here. */
export function compileTemplate(source: string): nunjucks.Template {
  return new nunjucks.Template(source, templateEnvironment(), undefined, true);
}

/** Render with the budget active; throws on any template, filter or security error. */
export function renderSafely(tpl: nunjucks.Template, ctx: Record<string, unknown>): string {
  const prev = active;
  active = { ops: 0, out: 0 };
  try {
    const out = tpl.render(ctx);
    if (out.length > MAX_OUTPUT_CHARS) {
      throw new TemplateSecurityError(`template output is larger than ${MAX_OUTPUT_CHARS} characters`);
    }
    return out;
  } finally {
    active = prev;
  }
}
