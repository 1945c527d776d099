/**
 * The `shipbatch-mcp` MCP server: the batch tools of {@link TOOLS} over one shared
 * {@link ShipbatchClient}, connected on first use so the server starts (and lists its tools) even while
 * Temporal is down; a tool call then answers with a connection error the agent can relay.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { ShipbatchClient } from '../client/index';
import { callTool, inputSchemaOf, TOOLS, type ToolOptions } from './tools/index';

/** Name and version the server announces. */
export const AGENT_SERVER_INFO = { name: 'shipbatch-mcp', version: '0.1.0' } as const;

/** A lazily connected client shared by every session of the process. */
export interface ClientSource {
  get(): Promise<ShipbatchClient>;
  close(): Promise<void>;
}

/** Connect on first use; a failed connect is retried on the next call. */
export function lazyClient(
  connect: () => Promise<ShipbatchClient> = () => ShipbatchClient.connect(),
): ClientSource {
  let pending: Promise<ShipbatchClient> | undefined;
  return {
    get() {
      pending ??= connect().catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
    async close() {
      const p = pending;
      pending = undefined;
      if (p) await (await p.catch(() => undefined))?.close();
    },
  };
}

/** One MCP server (one per session); every session shares `clients`. */
export function createAgentServer(clients: ClientSource, options: ToolOptions = {}): Server {
  const server = new Server({ ...AGENT_SERVER_INFO }, { capabilities: { tools: {} } });
  const listed = TOOLS.map((t) => ({
    name: t.name,
    description: t.description,
    annotations: t.annotations,
    inputSchema: inputSchemaOf(t.schema),
  }));
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> =>
    callTool(() => clients.get(), request.params.name, request.params.arguments ?? {}, options),
  );
  return server;
}
