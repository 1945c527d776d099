/**
 * `ups-sandbox`: the local UPS MCP server. stdio by default (how the worker starts it);
 * `--http <port>` serves Streamable HTTP on 127.0.0.1 at /mcp (port 0 picks a free one; the address is
 * printed on stderr). State lives in `--data-dir` / UPS_SANDBOX_DATA_DIR (default .data/ups-sandbox).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createSandboxServer, openSandboxState, type SandboxState } from './server';

const USAGE = `usage: ups-sandbox [--http <port>] [--host 127.0.0.1] [--data-dir DIR]
  stdio MCP server by default; --http serves Streamable HTTP at http://<host>:<port>/mcp
  knobs: UPS_SANDBOX_KNOBS (JSON) and UPS_SANDBOX_KNOBS_FILE (JSON file, re-read on change)
  one call is answered at a time per process, as by the real server (knob "concurrency": N for more)`;

/** An HTTP session unused this long is closed. */
const SESSION_IDLE_MS = 15 * 60_000;

function fail(message: string): never {
  process.stderr.write(`ups-sandbox: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function serveStdio(state: SandboxState): Promise<void> {
  const server = createSandboxServer(state);
  const transport = new StdioServerTransport();
  // The client closing our stdin (or dying) ends the process: no orphaned sandboxes.
  process.stdin.once('end', () => process.exit(0));
  process.stdin.once('close', () => process.exit(0));
  await server.connect(transport);
}

function jsonRpcError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function serveHttp(state: SandboxState, host: string, port: number): Promise<void> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const lastSeen = new Map<string, number>();
  // Clients that vanish without DELETE leave sessions behind: close the ones idle for too long.
  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const [id, seen] of lastSeen) {
      if (seen < cutoff) void sessions.get(id)?.close();
    }
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
      } catch {
        return jsonRpcError(res, 400, 'request body is not JSON');
      }
      if (existing) return existing.handleRequest(req, res, body);
      if (sessionId !== undefined) return jsonRpcError(res, 404, 'unknown Mcp-Session-Id');
      if (!isInitializeRequest(body))
        return jsonRpcError(res, 400, 'the first request of a session must be initialize');
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
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
      await createSandboxServer(state).connect(transport);
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
  process.stderr.write(
    `ups-sandbox: listening on http://${host}:${actualPort}/mcp (data ${state.dataDir})\n`,
  );
  const stop = () => {
    for (const t of sessions.values()) void t.close();
    httpServer.close(() => process.exit(0));
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
        'data-dir': { type: 'string' },
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
  const dataDir = path.resolve(values['data-dir'] ?? process.env.UPS_SANDBOX_DATA_DIR ?? '.data/ups-sandbox');
  let state: SandboxState;
  try {
    state = openSandboxState(dataDir);
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.http === undefined) return serveStdio(state);
  const port = Number(values.http);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--http needs a port number, got ${JSON.stringify(values.http)}`);
  await serveHttp(state, values.host, port);
}

main().catch((err: unknown) => {
  process.stderr.write(`ups-sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
