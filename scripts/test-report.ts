/** What `npm test` and `npm run test:cluster` share: the node test runner's arguments and the closing line. */
import { readFile } from 'node:fs/promises';

/** Arguments of `node` that run `files` one at a time, spec report on stdout, a TAP copy in `tapFile`. */
export function nodeTestArgs(files: readonly string[], tapFile: string): string[] {
  return [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
}

/** The plain closing line `N passed, N failed[, N skipped]`, from the TAP copy of the report. */
export async function summarise(tapFile: string): Promise<string | undefined> {
  const tap = await readFile(tapFile, 'utf8').catch(() => '');
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  if (!/^# tests \d+$/m.test(tap)) return undefined;
  const skipped = count('skipped') + count('todo');
  return `${count('pass')} passed, ${count('fail') + count('cancelled')} failed${skipped ? `, ${skipped} skipped` : ''}`;
}
