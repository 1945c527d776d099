/**
 * One template isolate: a separate V8 engine instance (isolated-vm) with no Node APIs and a memory cap,
 * holding nunjucks' browser build, the shipbatch filters and ONE batch's compiled template (see sandbox.ts).
 * The host talks to it only through strings (rows as JSON in, one page string out); every call has a wall-clock
 * timeout that interrupts synchronous code, and runs on isolated-vm's own thread (the async `apply`), so the
 * worker's event loop, and with it every other activity's heartbeat, keeps running meanwhile.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ivm from 'isolated-vm';
import { createFilters } from './filters';
import {
  ERROR_MARK,
  installSandbox,
  PAGE_SEPARATOR,
  type SandboxConfig,
  type SandboxRowResult,
} from './sandbox';

/** Memory cap of one isolate (MB): a render that needs more disposes the isolate, never the worker. */
export const ISOLATE_MEMORY_MB = 128;
/** Wall-clock budget for loading nunjucks and compiling the template. */
export const SETUP_TIMEOUT_MS = 5000;

/** Why an isolate call did not return: it ran out of time, or out of memory (the isolate is then gone). */
export class IsolateFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'memory' | 'crash',
    message: string,
  ) {
    super(message);
    this.name = 'IsolateFailure';
  }
}

const require = createRequire(import.meta.url);
let setupScript: string | undefined;

/**
 * The script every isolate starts from (built once): nunjucks' browser build, not the minified one (the
 * compiler patch in sandbox.ts calls its private `_emit` methods by name), and the sandbox installer.
 */
function setupSource(): string {
  if (setupScript === undefined) {
    const nunjucks = readFileSync(require.resolve('nunjucks/browser/nunjucks.js'), 'utf8');
    // `self` is where the UMD bundle puts `nunjucks`; `__name` is the helper tsx/esbuild inserts into the
    // shipped functions' source (keepNames), an identity function here.
    setupScript =
      'var self = globalThis; var __name = function (f) { return f; };\n' +
      `${nunjucks}\n;var __install = (${installSandbox.toString()});\nvar __createFilters = (${createFilters.toString()});\n`;
  }
  return setupScript;
}

function classify(e: unknown, isolate: ivm.Isolate, timeoutMs: number): IsolateFailure {
  const msg = e instanceof Error ? e.message : String(e);
  if (isolate.isDisposed || /memory limit|disposed/i.test(msg))
    return new IsolateFailure(
      'memory',
      `the template used more than ${ISOLATE_MEMORY_MB} MB of memory and was stopped`,
    );
  if (/timed out/i.test(msg))
    return new IsolateFailure(
      'timeout',
      `the template did not finish within ${timeoutMs} ms and was stopped`,
    );
  return new IsolateFailure('crash', `the template engine failed: ${msg.slice(0, 200)}`);
}

/** A live isolate with one batch's template compiled in it. */
export class TemplateIsolate {
  private constructor(
    private readonly isolate: ivm.Isolate,
    private readonly context: ivm.Context,
    private readonly render: ivm.Reference<(rowsJson: string) => string>,
  ) {}

  /** Create the isolate and compile the template; `{ok: false}` carries the template's compile error. */
  static async open(
    cfg: SandboxConfig,
  ): Promise<{ ok: true; isolate: TemplateIsolate } | { ok: false; error: string }> {
    const isolate = new ivm.Isolate({ memoryLimit: ISOLATE_MEMORY_MB });
    try {
      const context = await isolate.createContext();
      await context.eval(setupSource(), { timeout: SETUP_TIMEOUT_MS });
      const install = await context.global.get('__install', { reference: true });
      const filters = await context.global.get('__createFilters', { reference: true });
      const nunjucks = await context.global.get('nunjucks', { reference: true });
      const error = (await install.apply(
        undefined,
        [nunjucks.derefInto(), filters.derefInto(), new ivm.ExternalCopy(cfg).copyInto()],
        { timeout: SETUP_TIMEOUT_MS },
      )) as unknown;
      install.release();
      filters.release();
      nunjucks.release();
      if (typeof error === 'string' && error !== '') {
        isolate.dispose();
        return { ok: false, error };
      }
      const render = (await context.global.get('__renderPage', { reference: true })) as ivm.Reference<
        (rowsJson: string) => string
      >;
      return { ok: true, isolate: new TemplateIsolate(isolate, context, render) };
    } catch (e) {
      const f = classify(e, isolate, SETUP_TIMEOUT_MS);
      if (!isolate.isDisposed) isolate.dispose();
      return {
        ok: false,
        error: f.kind === 'crash' ? f.message : `the template cannot be prepared: ${f.message}`,
      };
    }
  }

  /** CPU time the isolate has used so far, in ms (not wall time: a busy machine does not inflate it). */
  get cpuMs(): number {
    return this.isolate.isDisposed ? 0 : Number(this.isolate.cpuTime) / 1e6;
  }

  /** Whether the isolate still exists (a memory overrun disposes it). */
  get alive(): boolean {
    return !this.isolate.isDisposed;
  }

  /** Render a page of rows (a JSON array of row objects); throws IsolateFailure on timeout or memory. */
  async renderPage(rowsJson: string, timeoutMs: number): Promise<SandboxRowResult[]> {
    try {
      const out: unknown = await this.render.apply(undefined, [rowsJson], { timeout: timeoutMs });
      if (typeof out !== 'string') throw new Error('the template engine returned no page');
      return out
        .split(PAGE_SEPARATOR)
        .map((r) => (r.startsWith(ERROR_MARK) ? { e: r.slice(ERROR_MARK.length) } : { o: r }));
    } catch (e) {
      throw classify(e, this.isolate, timeoutMs);
    }
  }

  /** Run code in the isolate's context (tests only: to prove the tripwire of a tampered built-in). */
  async evalForTests(code: string): Promise<unknown> {
    return this.context.eval(code, { timeout: SETUP_TIMEOUT_MS, copy: true });
  }

  /** Free the isolate. Idempotent. */
  dispose(): void {
    if (!this.isolate.isDisposed) {
      this.render.release();
      this.context.release();
      this.isolate.dispose();
    }
  }
}
