/**
 * `npm run bench [name…]`: runs the benchmark scripts `scripts/bench-<name>.ts` one after the other, each in
 * its own process so one's memory does not colour the next's. No name runs `throughput` (the bound and
 * shipbatch against it, in one run); `all` runs every one.
 * Benchmarks print their measurements; they never pass or fail on timings.
 */
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

const dir = import.meta.dirname;
const available = (await readdir(dir))
  .map((f) => /^bench-(.+)\.ts$/.exec(f)?.[1])
  .filter((n): n is string => n !== undefined)
  .sort();
const args = process.argv.slice(2);
const wanted = args.includes('all') ? available : args.length > 0 ? args : ['throughput'];
const unknown = wanted.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}\n`,
  );
  process.exit(2);
}
let failed = 0;
for (const name of wanted) {
  process.stdout.write(`\n== bench ${name}\n`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, `bench-${name}.ts`)], {
    stdio: 'inherit',
  });
  if (res.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
