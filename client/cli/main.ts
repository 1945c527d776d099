/**
 * The `shipbatch` CLI (docs/design.md §9): runs the program (program.ts) and ends the process. Exit codes: 0 ok,
 * 1 failure, 2 bad input (bad file, template that does not compile, bad shipper, bad filter, unknown table,
 * refused operation, bad flag).
 */
import { CommanderError } from 'commander';
import { describeError, exitCodeOf } from './exit-codes';
import { guardStdio, OutputClosedError, stdio, stdoutFailure, type Io } from './io';
import { buildProgram } from './program';

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: Io = stdio): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof OutputClosedError) {
      // The reader went away (`| head`): it has what it wanted, like any Unix filter's reader. Quiet, 0.
      if (!err.failure) return 0;
      io.err(`shipbatch: ${err.message}\n`);
      return 1;
    }
    const exit = exitCodeOf(err);
    // Commander already printed its own message (bad flag, missing argument, help).
    if (!(err instanceof CommanderError)) io.err(`shipbatch: ${describeError(err)}\n`);
    return exit;
  }
}

/** Resolves once everything written to `stream` so far has reached the OS (or the stream is gone). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('close', done);
    stream.on('error', done);
    stream.write('', done); // called once this (empty) write, so every earlier one, is done
  });
}

/** How long a finished command's process may stay up for a handle nobody closed (a bug) before it exits. */
const LINGER_MS = 2000;

/**
 * The `shipbatch` process (bin/shipbatch.js): run the command, set the exit code and let the process end by
 * itself once stdout and stderr are flushed — never `process.exit` while a pipe still holds output (that cut
 * `--json` at 64 KB). Commands close what they open (the Temporal connection, the pg pool: `withClient`).
 * A reader that goes away mid-output ends the command quietly with exit 0 (see {@link runCli}).
 * Should a handle still keep the process alive after the output is flushed, it exits after
 * {@link LINGER_MS} anyway (with SHIPBATCH_DEBUG, naming what was left open).
 */
export async function main(argv: string[]): Promise<void> {
  guardStdio();
  let code = await runCli(argv);
  const failure = stdoutFailure();
  if (failure && code === 0) {
    process.stderr.write(`shipbatch: cannot write the output: ${failure.message}\n`);
    code = 1;
  }
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  setTimeout(() => {
    if (process.env.SHIPBATCH_DEBUG) {
      const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
      process.stderr.write(`shipbatch: debug: still open after the command finished: ${open.join(', ')}\n`);
    }
    process.exit(code);
  }, LINGER_MS).unref();
}
