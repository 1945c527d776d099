/**
 * Where a benchmark's figures go: `BENCH_JSON`, else `.data/bench/<name>-<start time>.json`, with the start time,
 * the machine and the figures. Returns the path written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function writeBenchJson(name: string, started: Date, figures: Record<string, unknown>): string {
  const out =
    process.env.BENCH_JSON ||
    path.join(
      import.meta.dirname,
      '..',
      '.data',
      'bench',
      `${name}-${started.toISOString().replace(/[:.]/g, '-')}.json`,
    );
  mkdirSync(path.dirname(out), { recursive: true });
  const machine = {
    cpus: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  writeFileSync(out, `${JSON.stringify({ started: started.toISOString(), machine, ...figures }, null, 2)}\n`);
  return out;
}
