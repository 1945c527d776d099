/**
 * What every command's definition is built with: the program, the output, `act` (an action whose resolved
 * number is the exit code), `json` (the `--json` flag) and `example` (the Examples lines of a command's help).
 */
import type { Command } from 'commander';
import type { Io } from './io';

export interface CommandKit {
  program: Command;
  io: Io;
  act: <A extends unknown[]>(fn: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;
  json: (c: Command) => Command;
  example: (c: Command, ...lines: string[]) => Command;
}

/** The kit of `program`; `setCode` receives each action's exit code. */
export function commandKit(program: Command, io: Io, setCode: (code: number) => void): CommandKit {
  return {
    program,
    io,
    act:
      <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
      async (...args: A) => {
        setCode(await fn(...args));
      },
    json: (c) => c.option('--json', 'machine-readable output (stable field names)'),
    example: (c, ...lines) =>
      c.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`),
  };
}
