/**
 * How the CLI ends on an error: its exit code (0 ok, 1 failure, 2 the caller's input) and its one line.
 */
import { CommanderError } from 'commander';
import { ImportError } from './import/import-limits';
import { SourceError } from '../../inputs/source/identifiers';
import { ConfigError } from '../../temporal.config';
import { ShipbatchError } from '../errors';

/**
 * Exit code of an error: the client's typed errors carry theirs; a bad flag (commander), a bad configuration
 * variable, a bad import file or an unknown table or column below the client is the caller's input (2); anything
 * else is a failure (1). (A bad filter never arrives here: `start` checks it and throws a BatchInputError.)
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof ShipbatchError) return err.exitCode;
  if (err instanceof ConfigError || err instanceof ImportError || err instanceof SourceError) return 2;
  return 1;
}

/** One line for an error: the message, then the fix. Never a stack trace (unless SHIPBATCH_DEBUG is set). */
export function describeError(err: unknown): string {
  if (process.env.SHIPBATCH_DEBUG && err instanceof Error && err.stack) return err.stack;
  const message = err instanceof Error ? err.message : String(err);
  const fix = err instanceof ShipbatchError ? err.fix : undefined;
  return fix ? `${message}. Fix: ${fix}` : message;
}
