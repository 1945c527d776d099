/**
 * `shipbatch-mcp`: shipbatch's batch tools for AI agents. stdio by default (how MCP clients start it);
 * `--http <port>` serves Streamable HTTP on 127.0.0.1 at /mcp (port 0 picks a free one; the address is
 * printed on stderr). Services come from the environment like every shipbatch command
 * (TEMPORAL_ADDRESS, DATABASE_URL, SHIPBATCH_TASK_QUEUE… or a running `shipbatch dev`). What an agent may
 * do beyond previews that wait for the user's approval is the operator's choice, made with flags:
 * `--allow-auto`, `--tables`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { durationMs } from '../temporal.config';
import { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_MS, serveHttp } from './http';
import { createAgentServer, lazyClient, type ClientSource } from './server';
import { parseTableList } from './sources';
import type { ToolOptions } from './tools/index';

const USAGE = `usage: shipbatch-mcp [--allow-auto] [--tables T[,T…]] [--http <port> [--host 127.0.0.1|::1|localhost]
                     [--max-sessions N] [--session-idle DURATION] [--token-file FILE]]
  stdio MCP server by default; --http serves Streamable HTTP at http://<host>:<port>/mcp
  tools: batch_preview, batch_execute, batch_set_mode, batch_resume
  --allow-auto          let the agent choose auto mode (the batch ships right after its preview, with no
                        approval); refused by default
  --tables T[,T…]       the tables the agent may name as source_table (table or schema.table; "Quoted"
                        parts allowed); default: the tables \`shipbatch import\` made
  --max-sessions N      (--http) most MCP sessions open at once (default ${DEFAULT_MAX_SESSIONS})
  --session-idle D      (--http) close a session with no request for D, e.g. 90s, 15m (default 15m)
  --token-file FILE     (--http) require Authorization: Bearer <the token in FILE> on every request
  environment: SHIPBATCH_MCP_ALLOW_AUTO=1 is --allow-auto, SHIPBATCH_MCP_TABLES=T[,T…] is --tables (a flag wins)
  services from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, SHIPBATCH_TASK_QUEUE (or a running shipbatch dev)`;

/** Shortest bearer token accepted: a guessable one would be no protection. */
const MIN_TOKEN_CHARS = 16;

function fail(message: string): never {
  process.stderr.write(`shipbatch-mcp: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** A yes/no variable: unset, `0`/`false` or `1`/`true`; anything else stops the server, naming it. */
function envFlag(name: string): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return false;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  fail(`${name} must be 1/true or 0/false, got ${JSON.stringify(raw)}`);
}

async function serveStdio(clients: ClientSource, tools: ToolOptions): Promise<void> {
  const server = createAgentServer(clients, tools);
  const transport = new StdioServerTransport();
  // The MCP client closing our stdin ends the process (after closing the Temporal/PostgreSQL connections).
  const stop = () => void clients.close().finally(() => process.exit(0));
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  await server.connect(transport);
}

/** The bearer token of --token-file: its content without surrounding white space. */
function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`--token-file: cannot read ${file}: ${(err as Error).message}`);
  }
  const token = text.trim();
  if (!/^[\x21-\x7e]+$/.test(token) || token.length < MIN_TOKEN_CHARS) {
    fail(
      `--token-file: ${file} must hold one token of at least ${MIN_TOKEN_CHARS} printable ASCII characters, no spaces (e.g. from \`openssl rand -hex 32\`)`,
    );
  }
  return token;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        http: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        'allow-auto': { type: 'boolean', default: false },
        tables: { type: 'string', multiple: true },
        'max-sessions': { type: 'string' },
        'session-idle': { type: 'string' },
        'token-file': { type: 'string' },
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
  // These tools ship real packages: they are served on loopback only. Should a wider address ever be
  // allowed, it must require --token-file (a session id is no credential).
  if (!['127.0.0.1', 'localhost', '::1'].includes(values.host))
    fail(
      `--host must be a loopback address (127.0.0.1, ::1 or localhost), got ${JSON.stringify(values.host)}`,
    );
  // MCP clients often configure a server through its environment rather than its arguments: each option
  // also has a variable, and a flag given wins.
  const env = process.env;
  const tools: ToolOptions = { allowAuto: values['allow-auto'] || envFlag('SHIPBATCH_MCP_ALLOW_AUTO') };
  const tables =
    values.tables ?? (env.SHIPBATCH_MCP_TABLES !== undefined ? [env.SHIPBATCH_MCP_TABLES] : undefined);
  if (tables !== undefined) {
    const from = values.tables !== undefined ? '--tables' : 'SHIPBATCH_MCP_TABLES';
    try {
      tools.tables = parseTableList(tables);
    } catch (err) {
      fail(`${from}: ${(err as Error).message}`);
    }
  }
  const httpOnly = (['max-sessions', 'session-idle', 'token-file'] as const).filter(
    (k) => values[k] !== undefined,
  );
  if (values.http === undefined && httpOnly.length > 0)
    fail(`${httpOnly.map((k) => `--${k}`).join(', ')}: only with --http (they tune the HTTP server)`);
  const maxSessions = Number(values['max-sessions'] ?? DEFAULT_MAX_SESSIONS);
  if (!Number.isInteger(maxSessions) || maxSessions < 1 || maxSessions > 10_000)
    fail(
      `--max-sessions needs a whole number from 1 to 10000, got ${JSON.stringify(values['max-sessions'])}`,
    );
  let sessionIdleMs = DEFAULT_SESSION_IDLE_MS;
  if (values['session-idle'] !== undefined) {
    try {
      sessionIdleMs = durationMs(values['session-idle']);
    } catch {
      sessionIdleMs = 0;
    }
    if (sessionIdleMs < 1000 || sessionIdleMs > 2 ** 31 - 1)
      fail(
        `--session-idle needs a duration from 1s to 24d such as 90s or 15m, got ${JSON.stringify(values['session-idle'])}`,
      );
  }
  const token = values['token-file'] === undefined ? undefined : readToken(values['token-file']);
  const clients = lazyClient();
  if (values.http === undefined) return serveStdio(clients, tools);
  const port = Number(values.http);
  if (values.http.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--http needs a port number, got ${JSON.stringify(values.http)}`);
  await serveHttp(clients, {
    host: values.host,
    port,
    maxSessions,
    sessionIdleMs,
    ...(token !== undefined ? { token } : {}),
    tools,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`shipbatch-mcp: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
