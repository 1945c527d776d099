/**
 * Benchmark: `shipbatch rows ID` over a large batch through a pipe. A closed batch of BENCH_ROWS
 * rows (default 100,000; every status, errors and two-package shipments: test/helpers/ledger-batch.ts) is
 * written straight into the ledger of a throw-away stack; then the real CLI (bin/shipbatch.js, a child
 * process) prints it as `--ndjson`, `--json`, `--csv` and the table, to a reader that takes everything as it
 * comes, and once more (`--ndjson`) to a slow reader (BENCH_SLOW_MBPS, default 5 MB/s) that the CLI must wait
 * for rather than buffer. Each run prints bytes, seconds, rows/s and the CLI's peak RSS (VmHWM of
 * /proc/<pid>/status, sampled every 10 ms until it exits), next to `shipbatch --help` (what loading the CLI
 * costs). The goal: peak RSS under 150 MB, whatever the batch's size. Run: npm run bench rows.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openPool } from '../db/pool';
import { loadConfig } from '../temporal.config';
import { insertLedgerBatch } from '../test/helpers/ledger-batch';
import { startStack, stackEnv } from '../stack/stack';

const envNumber = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${name} must be a number > 0, got ${JSON.stringify(raw)}`);
  return n;
};
const N = Math.round(envNumber('BENCH_ROWS', 100_000));
const SLOW_MBPS = envNumber('BENCH_SLOW_MBPS', 5);
const GOAL_MB = 150;
const BIN = path.join(import.meta.dirname, '..', 'bin', 'shipbatch.js');

interface Run {
  what: string;
  bytes: number;
  seconds: number;
  peakMb: number;
  code: number | null;
}

/** Run the CLI with stdout a pipe; `mbps` throttles the reader (bytes per second, in MB). */
async function measure(what: string, args: string[], env: NodeJS.ProcessEnv, mbps?: number): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let peakKb = 0;
  const sample = async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
    peakKb = Math.max(peakKb, Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0));
  };
  const sampler = setInterval(() => void sample(), 10);
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let bytes = 0;
  for await (const chunk of child.stdout) {
    bytes += (chunk as Buffer).length;
    if (mbps) {
      const due = started + (bytes / (mbps * 1024 * 1024)) * 1000;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
  }
  await sample();
  const code = await exited;
  clearInterval(sampler);
  if (code !== 0 || err !== '') process.stderr.write(`bench rows: ${what} exited ${code}: ${err}\n`);
  return { what, bytes, seconds: (Date.now() - started) / 1000, peakMb: peakKb / 1024, code };
}

const config = loadConfig();
const stack = await startStack(config, { ephemeral: true });
try {
  const env = { ...process.env, ...stackEnv(stack) };
  const pool = await openPool({ url: stack.databaseUrl, max: 1 });
  const id = `batch-bench-rows-${process.pid}`;
  const t0 = Date.now();
  try {
    await insertLedgerBatch(pool, id, N);
  } finally {
    await pool.end();
  }
  console.log(`${N.toLocaleString('en')} ledger rows written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const runs: Run[] = [await measure('--help (loading the CLI)', ['--help'], env)];
  for (const format of ['--ndjson', '--json', '--csv', '']) {
    const args = ['rows', id, ...(format ? [format] : [])];
    runs.push(await measure(`rows ${format || '(table)'}`, args, env));
  }
  runs.push(
    await measure(`rows --ndjson, reader at ${SLOW_MBPS} MB/s`, ['rows', id, '--ndjson'], env, SLOW_MBPS),
  );

  console.log(
    `\n${'run'.padEnd(38)} ${'MB out'.padStart(7)} ${'s'.padStart(6)} ${'rows/s'.padStart(8)} ${'peak RSS'.padStart(9)}`,
  );
  for (const r of runs) {
    const rowsPerSecond = r.what.startsWith('rows') ? Math.round(N / r.seconds).toLocaleString('en') : '-';
    console.log(
      `${r.what.padEnd(38)} ${(r.bytes / 1048576).toFixed(1).padStart(7)} ${r.seconds.toFixed(2).padStart(6)} ` +
        `${rowsPerSecond.padStart(8)} ${`${r.peakMb.toFixed(1)} MB`.padStart(9)}${r.code === 0 ? '' : `  exit ${r.code}`}`,
    );
  }
  const worst = Math.max(...runs.map((r) => r.peakMb));
  console.log(
    `\npeak RSS of the CLI over ${N.toLocaleString('en')} rows: at most ${worst.toFixed(1)} MB ` +
      `(${worst < GOAL_MB ? 'under' : 'OVER'} the ${GOAL_MB} MB goal)`,
  );
} finally {
  await stack.stop();
}
