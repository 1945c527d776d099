/**
 * `npm run test:cluster`: brings the production-like cluster (four Temporal services as separate
 * processes on PostgreSQL) up on free ports in a throw-away data dir, runs a small set of workflow
 * tests against it (TEMPORAL_ADDRESS + DATABASE_URL, like `npm test` with an external Temporal) plus
 * the kill test of `test/cluster/`, prints timings and memory, and tears the cluster down.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../temporal.config';
import { nodeTestArgs, summarise } from './test-report';
import { describeStartupError } from '../stack/errors';
import { clusterStatus, startCluster, stopCluster } from '../stack/cluster/control';

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * What runs on the cluster by default: one workflow file of the main suite (which stays on the dev
 * server), then every `test/cluster/*.cluster.ts` (named so that `npm test`'s `*.test.ts` skips them).
 */
async function defaultFiles(): Promise<string[]> {
  const own = (await readdir(path.join(ROOT, 'test', 'cluster')))
    .filter((f) => f.endsWith('.cluster.ts'))
    .sort();
  return [
    path.join(ROOT, 'test', 'workflow', 'batch-approval.test.ts'),
    ...own.map((f) => path.join(ROOT, 'test', 'cluster', f)),
  ];
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.length > 0 ? args : await defaultFiles();
  const config = loadConfig();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-cluster-test-'));
  const log = (line: string) => process.stderr.write(`test:cluster: ${line}\n`);
  const started = Date.now();
  const state = await startCluster({
    dataDir,
    cacheDir: config.temporal.devServer.cacheDir,
    freePorts: true,
    ephemeral: true,
    // Long enough that a killed service is really missed (the kill test), as after a real crash.
    restartDelayMs: 5000,
    log,
  });
  log(`cluster ready at ${state.frontendAddress} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const tapFile = path.join(os.tmpdir(), `shipbatch-cluster-report-${process.pid}.tap`);
  let stopping = false;
  let peak = new Map<string, number>();
  const sampler = setInterval(() => {
    void clusterStatus(dataDir).then((s) => {
      const next = new Map(peak);
      for (const p of s.processes)
        if (p.rssMb !== undefined) next.set(p.name, Math.max(next.get(p.name) ?? 0, p.rssMb));
      peak = next;
    });
  }, 2000);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, nodeTestArgs(files, tapFile), {
      stdio: 'inherit',
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: state.frontendAddress,
        TEMPORAL_NAMESPACE: state.namespace,
        DATABASE_URL: state.databaseUrl,
        SHIPBATCH_DATA_DIR: path.join(dataDir, 'app'),
        SHIPBATCH_CLUSTER_DATA_DIR: dataDir,
      },
    });
    const forward = (signal: NodeJS.Signals) => {
      stopping = true;
      child.kill(signal);
    };
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  clearInterval(sampler);
  const final = await clusterStatus(dataDir);
  const memory = final.processes
    .filter((p) => peak.has(p.name))
    .map((p) => `${p.name} ${p.rssMb ?? '-'} MB (peak ${peak.get(p.name)})`)
    .join(', ');
  const restarts = final.processes
    .filter((p) => p.restarts > 0)
    .map((p) => `${p.name} ×${p.restarts}`)
    .join(', ');
  const summary = await summarise(tapFile);
  await rm(tapFile, { force: true });
  log(`stopping: ${await stopCluster(dataDir)}`);
  process.stdout.write(`\nRSS at the end: ${memory}\n`);
  if (restarts) process.stdout.write(`service restarts: ${restarts}\n`);
  process.stdout.write(`total ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  if (summary) process.stdout.write(`${summary}\n`);
  return stopping ? 130 : code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`test:cluster: ${describeStartupError(err)}\n`);
    process.exit(1);
  },
);
