/**
 * What every batch tool is: a name, a description, MCP annotations, a zod argument schema and a handler over
 * the typed client; and the options the server runs the tools with.
 */
import type { z } from 'zod';
import type { ShipbatchClient } from '../../client/index';
import type { TableName } from '../../inputs/source/identifiers';

/** What the tools allow, and their tuning (tests shorten the waits). */
export interface ToolOptions {
  /**
   * Whether an agent may choose auto mode (the batch ships right after its preview, with no approval).
   * Default false: refused with a message naming `--allow-auto`.
   */
  allowAuto?: boolean;
  /** The tables `source_table` may name; undefined (default): the tables `shipbatch import` made. */
  tables?: readonly TableName[];
  /** Longest wait of `batch_preview` for the preview (below MCP clients' usual 60 s request timeout). */
  previewWaitMs?: number;
  /** Status polling interval while waiting. */
  pollMs?: number;
}

/** The options with their defaults filled in. */
export type Settings = Required<Omit<ToolOptions, 'tables'>> & Pick<ToolOptions, 'tables'>;

/** One tool: name, description, argument schema and handler. */
export interface ToolDef<S extends z.ZodType> {
  name: string;
  description: string;
  /** MCP hints for clients that ask the user before consequential calls. */
  annotations: { title: string; readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean };
  schema: S;
  run(client: ShipbatchClient, args: z.output<S>, opts: Settings): Promise<unknown>;
}

/** A tool definition, its handler's arguments typed by its schema. */
export function tool<S extends z.ZodType>(def: ToolDef<S>): ToolDef<S> {
  return def;
}
