/**
 * How a tool answers: JSON text for the agent, or an MCP tool error whose text says what to do, with the
 * client's typed errors in the tools' own argument names.
 */
import {
  BatchInputError,
  BatchNotFoundError,
  BatchRefusedError,
  ConnectionError,
  ShipbatchError,
} from '../../client/index';
import { ToolError } from '../errors';

/** A tool's answer: JSON text for the agent, or an actionable error. */
export interface ToolAnswer {
  [key: string]: unknown;
  isError?: boolean;
  content: { type: 'text'; text: string }[];
}

/** An MCP tool error with this text. */
export function errorAnswer(text: string): ToolAnswer {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** The client's typed errors in words an agent can act on (the `fix` included). */
export function describeError(err: unknown): string {
  if (err instanceof ToolError) return err.message;
  if (err instanceof BatchNotFoundError) return `job_id: ${err.message}; ${err.fix ?? ''}`.trim();
  if (err instanceof BatchRefusedError) return `refused by batch ${err.batchId}: ${err.reason}`;
  if (err instanceof ShipbatchError) {
    // The client names batch-input fields as the workflow does; say them as this tool's arguments.
    const text = err instanceof BatchInputError ? argumentNames(err.message) : err.message;
    const prefix = err instanceof ConnectionError ? 'shipbatch is unreachable: ' : '';
    return `${prefix}${text}${err.fix ? ` (${err.fix})` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The batch input's field names (`source.table`, `template:`…) as `batch_preview`'s arguments. */
export function argumentNames(text: string): string {
  return text
    .replace(/\bsource\.table\b/g, 'source_table')
    .replace(/\bsource\.filter\b/g, 'filter_clause')
    .replace(/\binvalid batch id\b/g, 'job_id: invalid batch id')
    .replace(/(^|[\s;:])template:/g, '$1mapping_template:')
    .replace(/(^|[\s;:])shipper\./g, '$1shipper_info.');
}
