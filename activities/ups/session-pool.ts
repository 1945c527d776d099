/**
 * A pool of long-lived UPS MCP sessions, each carrying at most one call at a time.
 *
 * Why: the real UPS MCP server is serial. Its tool handlers call UPS with a blocking HTTP library, so
 * one server process answers one call at a time; calls multiplexed over one session queue inside the
 * server, where the client's timeout already runs (a create that UPS executed can then time out and
 * need reconciling). Concurrency therefore comes from N sessions (N stdio processes, or N HTTP
 * sessions), and a call that finds every session busy waits here, in the client, where the wait is not
 * part of its timeout: the timeout starts when the call is handed to a session.
 *
 * A session whose call failed after the request left (a timeout, a broken pipe, an abort) is closed and
 * replaced by a fresh one: a serial server may still be busy with that call, and the next call must not
 * queue behind it.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  UpsMcpConnection,
  UpsTransportError,
  type CallOptions,
  type UpsCaller,
  type UpsServerTarget,
} from './connection';
import { NO_METRICS, type ShipbatchMetrics } from '../metrics';

/** One session of the pool (a {@link UpsMcpConnection} in production; a stub in unit tests). */
export interface UpsSession {
  callTool(name: string, args: Record<string, unknown>, opts: CallOptions): Promise<CallToolResult>;
  listTools(): Promise<string[]>;
  close(): Promise<void>;
  /** Process id of a stdio server, when there is one. */
  serverPid?(): Promise<number | undefined>;
}

/** Opens session number `index` (0-based slot; a replacement keeps its slot's index). */
export type UpsSessionFactory = (index: number) => UpsSession;

/** What the pool is doing right now. */
export interface UpsPoolStats {
  size: number;
  /** Sessions created so far (slots are opened on demand). */
  open: number;
  busy: number;
  waiting: number;
  /** Sessions closed and replaced after a failed call. */
  replaced: number;
}

interface Slot {
  index: number;
  session: UpsSession;
  busy: boolean;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(err: Error): void;
}

/** The largest pool accepted: each stdio session is a server process. */
export const MAX_UPS_SESSIONS = 256;

/** N sessions with one call each at a time; callers wait (FIFO) for a free one. */
export class UpsSessionPool implements UpsCaller {
  private readonly slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  /** Sessions being closed in the background (awaited by close()). */
  private readonly closing = new Set<Promise<void>>();
  private closed = false;
  private replaced = 0;

  /**
   * @param size sessions at most (1…{@link MAX_UPS_SESSIONS})
   * @param openSession creates a session (not yet connected: it connects on its first call)
   * @param label how {@link describe} names the server (no secrets)
   * @param metrics where the wait for a session and the sessions busy are recorded
   */
  constructor(
    readonly size: number,
    private readonly openSession: UpsSessionFactory,
    private readonly label = 'UPS MCP server',
    private readonly metrics: ShipbatchMetrics = NO_METRICS,
  ) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_UPS_SESSIONS) {
      throw new RangeError(
        `UPS session pool size must be an integer from 1 to ${MAX_UPS_SESSIONS}, got ${String(size)}`,
      );
    }
    this.showSessions();
  }

  /** A pool of sessions with one target (stdio: one server process per session). */
  static forTarget(
    target: UpsServerTarget,
    size: number,
    onServerLog?: (line: string) => void,
    metrics?: ShipbatchMetrics,
  ): UpsSessionPool {
    const label = new UpsMcpConnection(target).describe();
    return new UpsSessionPool(size, () => new UpsMcpConnection(target, onServerLog), label, metrics);
  }

  describe(): string {
    return `${this.label} (${this.size} session${this.size === 1 ? '' : 's'})`;
  }

  stats(): UpsPoolStats {
    return {
      size: this.size,
      open: this.slots.length,
      busy: this.slots.filter((s) => s.busy).length,
      waiting: this.waiters.length,
      replaced: this.replaced,
    };
  }

  /**
   * Call a tool on a free session. Waiting for one is not part of `opts.timeoutMs`; an abort of
   * `opts.signal` while waiting gives up the place in line (a {@link UpsTransportError} that was never
   * sent).
   */
  async callTool(name: string, args: Record<string, unknown>, opts: CallOptions): Promise<CallToolResult> {
    const waitStarted = performance.now();
    const slot = await this.acquire(name, opts.signal);
    this.metrics.sessionWait(performance.now() - waitStarted);
    this.showSessions();
    let broken = false;
    try {
      return await slot.session.callTool(name, args, opts);
    } catch (err) {
      // The request may be running in the server still: don't send the next call after it.
      broken = err instanceof UpsTransportError && err.sent;
      throw err;
    } finally {
      this.release(slot, broken);
    }
  }

  /** The tools the server offers (asked on a free session). */
  async listTools(): Promise<string[]> {
    const slot = await this.acquire('tools/list');
    let broken = false;
    try {
      return await slot.session.listTools();
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      this.release(slot, broken);
    }
  }

  /** Process ids of the stdio servers of the open sessions (those connected so far). */
  async serverPids(): Promise<number[]> {
    const pids = await Promise.all(
      this.slots.map((s) => s.session.serverPid?.() ?? Promise.resolve(undefined)),
    );
    return pids.filter((p): p is number => p !== undefined);
  }

  /** Close every session; calls waiting for one fail (never sent), calls in flight fail as broken. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new UpsTransportError(`the UPS session pool (${this.describe()}) is closed`, false));
    }
    const sessions = this.slots.map((s) => s.session.close().catch(() => undefined));
    await Promise.all([...sessions, ...this.closing]);
  }

  private acquire(what: string, signal?: AbortSignal): Promise<Slot> {
    if (this.closed) {
      return Promise.reject(
        new UpsTransportError(`${what}: the UPS session pool (${this.describe()}) is closed`, false),
      );
    }
    if (signal?.aborted) return Promise.reject(this.cancelled(what, signal));
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (this.slots.length < this.size) {
      const slot: Slot = {
        index: this.slots.length,
        session: this.openSession(this.slots.length),
        busy: true,
      };
      this.slots.push(slot);
      return Promise.resolve(slot);
    }
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(this.cancelled(what, signal!));
      };
      const waiter: Waiter = {
        resolve: (slot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(slot);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private cancelled(what: string, signal: AbortSignal): UpsTransportError {
    return new UpsTransportError(
      `${what}: cancelled while waiting for a free UPS MCP session (${this.describe()}); nothing was sent`,
      false,
      { cause: signal.reason },
    );
  }

  private release(slot: Slot, broken: boolean): void {
    if (broken && !this.closed) {
      const old = slot.session;
      const done = old.close().catch(() => undefined);
      this.closing.add(done);
      void done.finally(() => this.closing.delete(done));
      slot.session = this.openSession(slot.index);
      this.replaced += 1;
    }
    const next = this.waiters.shift();
    if (next && !this.closed)
      next.resolve(slot); // stays busy: handed over directly, FIFO
    else slot.busy = false;
    this.showSessions();
  }

  /** The sessions gauges: busy now, and the pool's size. */
  private showSessions(): void {
    let busy = 0;
    for (const s of this.slots) if (s.busy) busy++;
    this.metrics.sessions(busy, this.size);
  }
}
