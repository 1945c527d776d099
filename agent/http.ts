/**
 * `shipbatch-mcp --http`: Streamable HTTP on a loopback address at /mcp. Each MCP session holds a server
 * and a transport in memory, so sessions are bounded (`maxSessions`; the one too many is a 503 JSON-RPC
 * error) and a session with no request for `sessionIdleMs` is closed. With a token every request must carry
 * `Authorization: Bearer <token>` (compared in constant time), the session id alone is no credential.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createAgentServer, type ClientSource } from './server';
import type { ToolOptions } from './tools/index';

/** Largest request body accepted (a template is at most 64 KiB). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Default bound of open sessions. */
export const DEFAULT_MAX_SESSIONS = 32;
/** Default idle time after which a session is closed. */
export const DEFAULT_SESSION_IDLE_MS = 15 * 60_000;

/** Options of {@link serveHttp}. */
export interface HttpOptions {
  /** A loopback address. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  maxSessions: number;
  sessionIdleMs: number;
  /** When set, every request must carry it as a bearer token. */
  token?: string;
  tools: ToolOptions;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  /** Fires `sessionIdleMs` after the last request ended; refreshed by every request. */
  idle: NodeJS.Timeout;
  /** POST/DELETE requests being answered: a session answering a long tool call is not idle. */
  busy: number;
}

function jsonRpcError(
  res: http.ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError('request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Whether the Authorization header carries the token; equal-length digests compared in constant time. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(sha256(given), expected);
}

/** A duration for messages: 900000 → "15m", 2000 → "2s". */
function durationText(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Serve the agent tools over Streamable HTTP until SIGINT/SIGTERM; the address is printed on stderr. */
export async function serveHttp(clients: ClientSource, opts: HttpOptions): Promise<void> {
  const sessions = new Map<string, Session>();
  /** Initialize requests admitted and not yet a session (so a burst cannot overshoot the bound). */
  let starting = 0;
  const tokenDigest = opts.token === undefined ? undefined : sha256(opts.token);
  // Logging is best effort: a parent that closed our stderr must not stop the server (EPIPE).
  process.stderr.on('error', () => undefined);
  const log = (line: string) => process.stderr.write(`shipbatch-mcp: ${line}\n`);
  /** Host headers accepted (set once listening): a web page rebinding its DNS name to 127.0.0.1 is refused. */
  let allowedHosts: string[] = [];

  function open(id: string, transport: StreamableHTTPServerTransport): void {
    const idle = setTimeout(() => {
      const s = sessions.get(id);
      if (!s) return;
      if (s.busy > 0) return void s.idle.refresh();
      log(`session ${id.slice(0, 8)} closed (idle ${durationText(opts.sessionIdleMs)})`);
      void s.transport.close();
    }, opts.sessionIdleMs);
    idle.unref();
    sessions.set(id, { transport, idle, busy: 0 });
    log(`session ${id.slice(0, 8)} opened (${sessions.size} of ${opts.maxSessions} open)`);
  }

  function closed(id: string): void {
    const s = sessions.get(id);
    if (!s) return;
    clearTimeout(s.idle);
    sessions.delete(id);
  }

  /** Count a request against the session's idleness until its response is over. */
  function track(id: string, session: Session, req: http.IncomingMessage, res: http.ServerResponse): void {
    session.idle.refresh();
    // A GET is the server-to-client stream, open as long as the client likes: it does not keep a session.
    if (req.method === 'GET') return;
    session.busy++;
    res.once('close', () => {
      session.busy--;
      // Not once the session is gone (a DELETE): that would arm its cleared timer again.
      if (sessions.get(id) === session) session.idle.refresh();
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (tokenDigest && !bearerMatches(req.headers.authorization, tokenDigest)) {
      return jsonRpcError(
        res,
        401,
        'missing or wrong bearer token: send the header Authorization: Bearer <token>, the token of the file given to shipbatch-mcp --token-file',
        { 'www-authenticate': 'Bearer realm="shipbatch-mcp"' },
      );
    }
    // Only the path matters; a fixed base also parses when host is ::1.
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/mcp')
      return jsonRpcError(res, 404, `no MCP endpoint at ${url.pathname}; use /mcp`);
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing) track(sessionId as string, existing, req, res);
    const expired = 'unknown or expired Mcp-Session-Id: start a new session with initialize';
    if (req.method !== 'POST') {
      if (!existing) return jsonRpcError(res, 404, expired);
      return existing.transport.handleRequest(req, res);
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (err) {
      return err instanceof RangeError
        ? jsonRpcError(res, 413, err.message)
        : jsonRpcError(res, 400, 'request body is not JSON');
    }
    if (existing) return existing.transport.handleRequest(req, res, body);
    if (sessionId !== undefined) return jsonRpcError(res, 404, expired);
    if (!isInitializeRequest(body))
      return jsonRpcError(res, 400, 'the first request of a session must be initialize');
    const count = sessions.size + starting;
    if (count >= opts.maxSessions) {
      return jsonRpcError(
        res,
        503,
        `too many MCP sessions (${count} open, at most ${opts.maxSessions}): close one (DELETE /mcp with its Mcp-Session-Id) or wait until one is idle for ${durationText(opts.sessionIdleMs)}; the operator can raise the bound with shipbatch-mcp --max-sessions`,
      );
    }
    starting++;
    let reserved = true;
    const release = () => {
      if (reserved) starting--;
      reserved = false;
    };
    try {
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableDnsRebindingProtection: true,
        allowedHosts,
        onsessioninitialized: (id) => {
          release();
          open(id, transport);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) closed(transport.sessionId);
      };
      await createAgentServer(clients, opts.tools).connect(transport);
      await transport.handleRequest(req, res, body);
      // Refused before it became a session (a foreign Host header, a bad protocol version…): nothing is kept.
      if (!transport.sessionId || !sessions.has(transport.sessionId)) await transport.close();
    } finally {
      release();
    }
  }

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) jsonRpcError(res, 500, err instanceof Error ? err.message : String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, resolve);
  });
  const address = httpServer.address();
  const actualPort = typeof address === 'object' && address ? address.port : opts.port;
  allowedHosts = [`localhost:${actualPort}`, `127.0.0.1:${actualPort}`, `[::1]:${actualPort}`];
  log(`listening on http://${opts.host}:${actualPort}/mcp`);
  const stop = () => {
    for (const s of sessions.values()) void s.transport.close();
    httpServer.close(() => void clients.close().finally(() => process.exit(0)));
    httpServer.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
