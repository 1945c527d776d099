/**
 * The four batch tools an AI agent drives shipbatch with: thin wrappers over the typed client
 * (`client/`). The workflow decides everything (approval, mode lock, restart scope); these tools only
 * check their arguments, call the client and phrase the answer so an agent knows what to do next.
 * One file a tool; this one lists them and runs one by name.
 */
import { z } from 'zod';
import type { ShipbatchClient } from '../../client/index';
import { describeIssues } from '../../domain/batch';
import { ToolError } from '../errors';
import { describeError, errorAnswer, type ToolAnswer } from './answers';
import { batchExecuteTool } from './batch-execute';
import { batchPreviewTool } from './batch-preview';
import { batchResumeTool } from './batch-resume';
import { batchSetModeTool } from './batch-set-mode';
import type { Settings, ToolOptions } from './tool';

export { ToolError };
export type { ToolAnswer, ToolOptions };

/** The tools in the order they are listed. */
export const TOOLS = [batchPreviewTool, batchExecuteTool, batchSetModeTool, batchResumeTool] as const;

/** JSON Schema of a tool's arguments (what the agent sees in tools/list). */
export function inputSchemaOf(schema: z.ZodType): { type: 'object'; [k: string]: unknown } {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return { ...json, type: 'object' };
}

/** Run a tool by name; every failure becomes an MCP tool error the agent can act on. */
export async function callTool(
  client: () => Promise<ShipbatchClient>,
  name: string,
  rawArgs: unknown,
  options: ToolOptions = {},
): Promise<ToolAnswer> {
  const def = TOOLS.find((t) => t.name === name);
  if (!def) {
    return errorAnswer(
      `unknown tool ${JSON.stringify(name.slice(0, 100))}; use one of ${TOOLS.map((t) => t.name).join(', ')}`,
    );
  }
  const parsed = (def.schema as z.ZodType).safeParse(rawArgs ?? {});
  if (!parsed.success) return errorAnswer(`invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
  const opts: Settings = { allowAuto: false, previewWaitMs: 45_000, pollMs: 500, ...options };
  try {
    const c = await client();
    const result = await (def.run as (c: ShipbatchClient, a: unknown, o: typeof opts) => Promise<unknown>)(
      c,
      parsed.data,
      opts,
    );
    return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }] };
  } catch (err) {
    return errorAnswer(`${name}: ${describeError(err)}`);
  }
}

/** For tests and docs: the tools' names. */
export const TOOL_NAMES = TOOLS.map((t) => t.name);
