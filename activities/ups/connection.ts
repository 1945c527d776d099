/**
 * One long-lived MCP session with a UPS MCP server (the real `ups-mcp`, any Streamable HTTP server, or
 * the bundled sandbox over stdio), reconnected when it breaks. A call that finds the session closed
 * before its request was sent reconnects and sends it; a call whose session breaks while it waits is
 * reported as a transport failure (the request may have reached the server: see errors.ts).
 *
 * What the connection says about the server, and what the server says back in errors, ends up in
 * activity failures (so in workflow history) and in the worker's log. The server's credentials (its
 * environment values, the values among its arguments, the URL's user info and query values, header
 * values) are therefore masked in every such text: descriptions, stderr lines, error answers, and each
 * error of a failure's cause chain.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** Where the UPS MCP server is and how to reach it. */
export type UpsServerTarget =
  | { transport: 'stdio'; command: string; args: string[]; env?: Record<string, string>; cwd?: string }
  | { transport: 'http'; url: string; headers?: Record<string, string> };

const SANDBOX_BIN = fileURLToPath(new URL('../../bin/ups-sandbox.js', import.meta.url));

/** The bundled sandbox as a stdio target: this Node running bin/ups-sandbox.js. */
export function sandboxTarget(env: Record<string, string> = {}): UpsServerTarget {
  return { transport: 'stdio', command: process.execPath, args: [SANDBOX_BIN], env };
}

/**
 * A signal of one call that follows `parent`. The MCP SDK leaves the abort listener it adds to a request's
 * signal in place, so it gets this one, not the caller's: an activity making thousands of calls under its one
 * cancellation signal (a preview rating every row) would otherwise collect a listener per call.
 */
function callSignal(parent: AbortSignal | undefined): { signal: AbortSignal | undefined; done(): void } {
  if (!parent) return { signal: undefined, done: () => undefined };
  const own = new AbortController();
  const follow = () => own.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener('abort', follow, { once: true });
  return { signal: own.signal, done: () => parent.removeEventListener('abort', follow) };
}

/** The session broke or could not be opened; `sent` tells whether the request may have left. */
export class UpsTransportError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpsTransportError';
  }
}

export interface CallOptions {
  /** Time allowed for the answer, counted from when the request is sent (not from any wait before). */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Runs once the call has a session and before the request is sent (e.g. pacing); not part of the
   * timeout.
   */
  beforeSend?: () => Promise<void>;
}

/** What {@link UpsClient} calls through: one session ({@link UpsMcpConnection}) or a pool of them. */
export interface UpsCaller {
  /** The target without secrets, for logs. */
  describe(): string;
  callTool(name: string, args: Record<string, unknown>, opts: CallOptions): Promise<CallToolResult>;
  listTools(): Promise<string[]>;
  close(): Promise<void>;
}

/** Values shorter than this are not masked in text: they would mask ordinary words, and guard nothing. */
const MIN_MASKED_LENGTH = 4;

/** `-v`, `--stdio`: an option's name, never a credential (its value may be: that is another argument). */
const OPTION_NAME = /^--?[A-Za-z][\w-]*$/;

/** An argument as it may be shown: option names and the paths of existing files; any other value masked. */
function shownArgument(arg: string, cwd: string): string {
  if (OPTION_NAME.test(arg)) return arg;
  const eq = arg.indexOf('=');
  if (eq > 0 && OPTION_NAME.test(arg.slice(0, eq))) return `${arg.slice(0, eq)}=***`;
  return path.isAbsolute(arg) || arg.startsWith('.')
    ? existsSync(path.resolve(cwd, arg))
      ? arg
      : '***'
    : '***';
}

/**
 * The URL to request and the headers to send: user info in the URL (`https://user:pass@host/mcp`) goes
 * as HTTP Basic authentication (fetch refuses URLs with credentials), unless an Authorization header is set.
 */
export function httpRequestTarget(target: { url: string; headers?: Record<string, string> }): {
  url: URL;
  headers?: Record<string, string>;
} {
  const url = new URL(target.url);
  if (!url.username && !url.password) return { url, headers: target.headers };
  const basic = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  ).toString('base64');
  url.username = '';
  url.password = '';
  const hasAuthorization = Object.keys(target.headers ?? {}).some((h) => h.toLowerCase() === 'authorization');
  return {
    url,
    headers: hasAuthorization ? target.headers : { Authorization: `Basic ${basic}`, ...target.headers },
  };
}

/** Every value of a target that may be a credential, longest first (so no longer one is masked in part). */
function credentialsOf(target: UpsServerTarget): string[] {
  const values: string[] = [];
  if (target.transport === 'stdio') {
    values.push(...Object.values(target.env ?? {}));
    for (const arg of target.args) {
      const eq = arg.indexOf('=');
      if (eq > 0 && OPTION_NAME.test(arg.slice(0, eq))) values.push(arg.slice(eq + 1));
      else if (shownArgument(arg, target.cwd ?? '.') === '***') values.push(arg);
    }
  } else {
    const url = new URL(target.url);
    for (const part of [url.username, url.password]) values.push(part, decodeURIComponent(part));
    for (const [, value] of url.searchParams) values.push(value, encodeURIComponent(value));
    for (const value of Object.values(httpRequestTarget(target).headers ?? {})) {
      values.push(value, value.replace(/^(Basic|Bearer)\s+/i, ''));
    }
  }
  return [...new Set(values.filter((v) => v.length >= MIN_MASKED_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
}

/** The server refused the connection: the request was never sent. */
function isRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
  }
  return false;
}

/** A reconnecting MCP client session. */
export class UpsMcpConnection implements UpsCaller {
  private session: Promise<{ client: Client; transport: Transport }> | undefined;
  private closed = false;
  /** What {@link redact} masks: the target's credentials. */
  private readonly credentials: string[];
  /** The last lines the stdio server wrote to stderr, quoted when it dies. */
  private readonly stderrTail: string[] = [];

  constructor(
    private readonly target: UpsServerTarget,
    private readonly onServerLog: (line: string) => void = () => undefined,
  ) {
    this.credentials = credentialsOf(target);
  }

  /**
   * Describes the target without secrets: the command with its option names and file arguments (other
   * argument values masked), or the URL without user info and query; never env values or headers.
   */
  describe(): string {
    if (this.target.transport === 'stdio') {
      const cwd = this.target.cwd ?? '.';
      const args = this.target.args.map((arg) => shownArgument(arg, cwd));
      return this.redact(`stdio ${[this.target.command, ...args].join(' ')}`);
    }
    const url = new URL(this.target.url);
    return `http ${url.origin}${url.pathname}`; // no user info, no query (they can carry keys)
  }

  /** Text from or about the server with the target's credentials masked. */
  private redact(text: string): string {
    let out = text;
    for (const value of this.credentials) out = out.split(value).join('***');
    return out;
  }

  /**
   * `err` and each error of its cause chain with the credentials masked, in place: in message and stack
   * (the failure converter records the whole chain) and in every other text of it (a log prints them
   * all; a failed spawn carries the arguments as `spawnargs`).
   */
  private scrub<E>(err: E): E {
    const seen = new Set<unknown>();
    for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
      seen.add(e);
      e.message = this.redact(e.message);
      if (e.stack) e.stack = this.redact(e.stack);
      if (e instanceof McpError) (e as { data?: unknown }).data = undefined;
      const props = e as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(props)) {
        if (typeof value === 'string') props[key] = this.redact(value);
        else if (Array.isArray(value)) {
          props[key] = value.map((v: unknown) => (typeof v === 'string' ? this.redact(v) : v));
        }
      }
    }
    return err;
  }

  /** A tool's error answer with the credentials masked in its text (the server may quote them). */
  private scrubResult(result: CallToolResult): CallToolResult {
    if (!result.isError) return result;
    return {
      ...result,
      content: result.content.map((c) => (c.type === 'text' ? { ...c, text: this.redact(c.text) } : c)),
      structuredContent: undefined,
    };
  }

  private open(): Promise<{ client: Client; transport: Transport }> {
    const session = (async () => {
      const transport = this.createTransport();
      const client = new Client({ name: 'shipbatch', version: '0.1.0' });
      const dropIfCurrent = () => {
        if (this.session === session) this.session = undefined;
      };
      client.onclose = dropIfCurrent;
      try {
        await client.connect(transport);
      } catch (err) {
        dropIfCurrent();
        await client.close().catch(() => undefined);
        this.scrub(err);
        throw new UpsTransportError(
          this.redact(
            `cannot connect to the UPS MCP server (${this.describe()}): ${(err as Error).message}${this.tail()}`,
          ),
          false,
          { cause: err },
        );
      }
      return { client, transport };
    })();
    this.session = session;
    return session;
  }

  private createTransport(): Transport {
    if (this.target.transport === 'http') {
      const { url, headers } = httpRequestTarget(this.target);
      return new StreamableHTTPClientTransport(url, { requestInit: headers ? { headers } : undefined });
    }
    const transport = new StdioClientTransport({
      command: this.target.command,
      args: this.target.args,
      env: { ...getDefaultEnvironment(), ...this.target.env },
      cwd: this.target.cwd,
      stderr: 'pipe',
    });
    let pending = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const safe = this.redact(line);
        this.stderrTail.push(safe);
        if (this.stderrTail.length > 10) this.stderrTail.shift();
        this.onServerLog(safe);
      }
    });
    return transport;
  }

  private tail(): string {
    return this.stderrTail.length ? `; server said: ${this.stderrTail.slice(-3).join(' | ')}` : '';
  }

  /** Process id of the stdio server of the current session (none for HTTP or before connecting). */
  async serverPid(): Promise<number | undefined> {
    const session = await this.session?.catch(() => undefined);
    const transport = session?.transport;
    return transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  }

  /** The tools the server offers. */
  async listTools(): Promise<string[]> {
    const { client } = await (this.session ?? this.open());
    const { tools } = await client.listTools().catch((err: unknown) => {
      throw this.scrub(err);
    });
    return tools.map((t) => t.name);
  }

  /**
   * Call a tool. Returns the tool's result, including `isError` results (those are UPS's answer, not a
   * transport failure). Throws {@link UpsTransportError} when the session fails.
   */
  async callTool(name: string, args: Record<string, unknown>, opts: CallOptions): Promise<CallToolResult> {
    if (this.closed) throw new UpsTransportError('the UPS MCP connection is closed', false);
    let ready = false;
    for (let attempt = 0; ; attempt++) {
      const { client } = await (this.session ?? this.open());
      if (!ready) {
        await opts.beforeSend?.();
        ready = true;
      }
      const call = callSignal(opts.signal);
      try {
        return this.scrubResult(
          (await client.callTool({ name, arguments: args }, undefined, {
            timeout: opts.timeoutMs,
            signal: call.signal,
          })) as CallToolResult,
        );
      } catch (caught) {
        const err = this.scrub(caught);
        // A JSON-RPC error answer (unknown tool, bad params) came over a healthy session.
        if (
          err instanceof McpError &&
          err.code !== (ErrorCode.ConnectionClosed as number) &&
          err.code !== (ErrorCode.RequestTimeout as number)
        ) {
          throw err;
        }
        const message = (err as Error).message ?? String(err);
        const sessionGone =
          /not connected/i.test(message) || (err instanceof StreamableHTTPError && err.code === 404);
        if (sessionGone && attempt === 0) {
          // The session died (stdio) or the server forgot it (HTTP 404 after a restart) before this
          // request was processed: open a new session and send it there.
          await this.reset();
          continue;
        }
        if (isRefused(err)) {
          await this.reset();
          throw new UpsTransportError(
            this.redact(`${name} over ${this.describe()}: server unreachable: ${message}`),
            false,
            { cause: err },
          );
        }
        // A request timeout leaves the session usable; anything else may have broken it.
        if (!/timed out|timeout/i.test(message) && !opts.signal?.aborted) await this.reset();
        throw new UpsTransportError(
          this.redact(`${name} over ${this.describe()}: ${message}${this.tail()}`),
          true,
          { cause: err },
        );
      } finally {
        call.done();
      }
    }
  }

  /** Drop the current session (the next call opens a new one). */
  async reset(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    await session
      .then(async ({ client, transport }) => {
        // Tell an HTTP server to drop the session instead of leaving it to expire.
        if (transport instanceof StreamableHTTPClientTransport) {
          await transport.terminateSession().catch(() => undefined);
        }
        await client.close();
      })
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
  }
}
