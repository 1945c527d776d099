/**
 * What the real ups-mcp server says about itself at initialize (FastMCP on the `mcp<2` Python SDK):
 * its name, the SDK version as its version, no instructions, and the capabilities FastMCP always
 * declares (prompts and resources too, whose lists are empty). The sandbox server presents the same.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';

/** serverInfo of the real server as measured (FastMCP reports the Python SDK's version). */
export const SERVER_INFO = { name: 'ups-mcp', version: '1.30.0' } as const;

/** The capabilities FastMCP declares. */
export const SERVER_CAPABILITIES: ServerCapabilities = {
  experimental: {},
  prompts: { listChanged: false },
  resources: { subscribe: false, listChanged: false },
  tools: { listChanged: false },
};

/** Answer the prompt and resource listings the capabilities promise (all empty, as the real server's). */
export function answerEmptyListings(server: Server): void {
  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [] }));
  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [] }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: [] }));
}
