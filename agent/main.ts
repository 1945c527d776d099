/**
 * `shipbatch-mcp`: shipbatch's batch tools for AI agents. stdio by default (how MCP clients start it);
 * `--http <port>` serves Streamable HTTP on 127.0.0.1 at /mcp (port 0 picks a free one; the address is
 * printed on stderr). Services come from the environment like every shipbatch command
 * (TEMPORAL_ADDRESS, DATABASE_URL, SHIPBATCH_TASK_QUEUE… or a running `shipbatch dev`).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createAgentServer, lazyClient, type ClientSource } from './server';

const USAGE = `usage: shipbatch-mcp [--http <port>] [--host 127.0.0.1|::1|localhost]
  stdio MCP server by default; --http serves Streamable HTTP at http://<host>:<port>/mcp
  tools: batch_preview, batch_execute, batch_set_mode, batch_resume
  services from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, SHIPBATCH_TASK_QUEUE (or a running shipbatch dev)`;

/** Largest request body accepted over HTTP (a template is at most 64 KiB). */
const MAX_BODY_BYTES = 1024 * 1024;
/** An HTTP session unused this long is closed. */
const SESSION_IDLE_MS = 15 * 60_000;

function fail(message: string): never {
  process.stderr.write(`shipbatch-mcp: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function serveStdio(clients: ClientSource): Promise<void> {
  const server = createAgentServer(clients);
  const transport = new StdioServerTransport();
  // The MCP client closing our stdin ends the process (after closing the Temporal/PostgreSQL connections).
  const stop = () => void clients.close().finally(() => process.exit(0));
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  await server.connect(transport);
}

function jsonRpcError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
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

async function serveHttp(clients: ClientSource, host: string, port: number): Promise<void> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const lastSeen = new Map<string, number>();
  /** Host headers accepted (set once listening): a web page rebinding its DNS name to 127.0.0.1 is refused. */
  let allowedHosts: string[] = [];
  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const [id, seen] of lastSeen) if (seen < cutoff) void sessions.get(id)?.close();
  }, 60_000);
  sweep.unref();
  const httpServer = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', `http://${host}`);
      if (url.pathname !== '/mcp')
        return jsonRpcError(res, 404, `no MCP endpoint at ${url.pathname}; use /mcp`);
      const sessionId = req.headers['mcp-session-id'];
      const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (existing && typeof sessionId === 'string') lastSeen.set(sessionId, Date.now());
      if (req.method !== 'POST') {
        if (!existing) return jsonRpcError(res, 404, 'unknown or missing Mcp-Session-Id');
        return existing.handleRequest(req, res);
      }
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        return err instanceof RangeError
          ? jsonRpcError(res, 413, err.message)
          : jsonRpcError(res, 400, 'request body is not JSON');
      }
      if (existing) return existing.handleRequest(req, res, body);
      if (sessionId !== undefined) return jsonRpcError(res, 404, 'unknown Mcp-Session-Id');
      if (!isInitializeRequest(body))
        return jsonRpcError(res, 400, 'the first request of a session must be initialize');
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableDnsRebindingProtection: true,
        allowedHosts,
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
          lastSeen.set(id, Date.now());
        },
      });
      transport.onclose = () => {
        if (!transport.sessionId) return;
        sessions.delete(transport.sessionId);
        lastSeen.delete(transport.sessionId);
      };
      await createAgentServer(clients).connect(transport);
      await transport.handleRequest(req, res, body);
    })().catch((err: unknown) => {
      if (!res.headersSent) jsonRpcError(res, 500, err instanceof Error ? err.message : String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, resolve);
  });
  const address = httpServer.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  allowedHosts = [`localhost:${actualPort}`, `127.0.0.1:${actualPort}`, `[::1]:${actualPort}`];
  process.stderr.write(`shipbatch-mcp: listening on http://${host}:${actualPort}/mcp\n`);
  const stop = () => {
    for (const t of sessions.values()) void t.close();
    httpServer.close(() => void clients.close().finally(() => process.exit(0)));
    httpServer.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        http: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // No authentication: these tools ship real packages, so they are served on loopback only.
  if (!['127.0.0.1', 'localhost', '::1'].includes(values.host))
    fail(
      `--host must be a loopback address (127.0.0.1, ::1 or localhost), got ${JSON.stringify(values.host)}`,
    );
  const clients = lazyClient();
  if (values.http === undefined) return serveStdio(clients);
  const port = Number(values.http);
  if (values.http.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--http needs a port number, got ${JSON.stringify(values.http)}`);
  await serveHttp(clients, values.host, port);
}

main().catch((err: unknown) => {
  process.stderr.write(`shipbatch-mcp: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
