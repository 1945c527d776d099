/**
 * The commands that run services: `dev` (the embedded stack and a worker, in the foreground), `worker`,
 * and `demo` (what `npm start` runs: the whole tour, unattended when not on a TTY or with CI=true).
 * Start-up failures are one line naming the cause and the fix (describeStartupError), never a trace.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, describeConfig, loadConfig, type ShipbatchConfig } from '../../temporal.config';
import { describeDatabaseUrl } from '../../activities/db';
import { stackCheck } from '../../workflows';
import { startStack, stackEnv, type RunningStack } from '../../stack/stack';
import { startProcess, waitFor, type ManagedProcess } from '../../stack/processes';
import { describeStartupError } from '../../stack/errors';
import { FINAL_PHASES, type BatchStatus } from '../../domain/batch';
import { ShipbatchClient } from '../batches';
import { readDevState, removeDevState, writeDevState } from '../config';
import { printPreview } from './batch-commands';
import type { Io } from './io';
import { writeRowsCsv } from './ledger-commands';
import { formatMoney } from './output';
import { watchBatch } from './watch';

const ROOT = path.join(import.meta.dirname, '..', '..');
const WORKER_MAIN = path.join(ROOT, 'workers', 'main.ts');
/** tsx's loader by absolute URL: `--import tsx` would resolve from the cwd, which may be any directory. */
const TSX = import.meta.resolve('tsx');

/** A failure already explained on one line; the exit code says whether it was the user's input. */
class StartupFailed extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

interface Services {
  stack: RunningStack;
  worker?: ManagedProcess;
  config: ShipbatchConfig;
  /** Stop the worker first, then the stack (idempotent). */
  stop(): Promise<void>;
}

/** The configuration to start services with; a bad variable is a StartupFailed (exit 2) on one line. */
function startupConfig(): ShipbatchConfig {
  try {
    return loadConfig();
  } catch (err) {
    // Every bad variable, on one line (describeStartupError keeps only an error's first line).
    const text = err instanceof ConfigError ? oneLineConfigError(err) : describeStartupError(err);
    throw new StartupFailed(text, err instanceof ConfigError ? 2 : 1);
  }
}

/** Start the embedded stack (what the config says is embedded) and, unless told not to, a worker; wait until it polls. */
async function bringUp(
  io: Io,
  opts: { worker: boolean; log: (line: string) => void; config?: ShipbatchConfig },
): Promise<Services> {
  const config = opts.config ?? startupConfig();
  const running = readDevState();
  if (running) {
    throw new StartupFailed(
      `shipbatch dev already runs in this directory (pid ${running.pid}). Fix: use it (other commands find it), or stop it first`,
      1,
    );
  }
  opts.log(`starting the embedded stack (${JSON.stringify(describeConfig(config).temporal)})`);
  let stack: RunningStack | undefined;
  let worker: ManagedProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await worker?.stop(15_000);
    await stack?.stop();
  };
  try {
    stack = await startStack(config);
    const env = { ...process.env, ...stackEnv(stack) };
    const stackConfig = loadConfig(env);
    if (opts.worker) {
      worker = await startProcess('worker', process.execPath, ['--import', TSX, WORKER_MAIN], {
        logDir: stack.logDir,
        env,
        cwd: process.cwd(),
      });
      const connection = await Connection.connect({ ...stackConfig.temporal.connection });
      try {
        const client = new Client({ connection, namespace: stack.namespace });
        const w = worker;
        await waitFor(
          `a worker polling task queue ${config.taskQueue}`,
          async () => {
            if (w.child.exitCode !== null || w.spawnError) {
              throw new Error(`the worker exited at start-up; see ${w.logFile}`);
            }
            return (await ShipbatchClient.pollers(client, stack!.namespace, config.taskQueue)) > 0;
          },
          90_000,
        );
      } finally {
        await connection.close();
      }
    }
    return { stack, worker, config: stackConfig, stop };
  } catch (err) {
    await stop();
    throw new StartupFailed(describeStartupError(err), err instanceof ConfigError ? 2 : 1);
  }
}

/** `invalid configuration:\n  A\n  B` → `invalid configuration: A; B`. */
function oneLineConfigError(err: ConfigError): string {
  const [head, ...problems] = err.message.split('\n').map((l) => l.trim());
  return problems.length ? `${head!.replace(/:$/, '')}: ${problems.join('; ')}` : head!;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

// ---------------------------------------------------------------- dev

/** `shipbatch dev`: the embedded stack + a worker in the foreground; Ctrl-C stops everything, worker first. */
export async function devCommand(f: { worker?: boolean; json?: boolean }, io: Io): Promise<number> {
  const say = (line: string) => io.out(`${line}\n`);
  const signal = waitForSignal();
  let services: Services;
  try {
    services = await bringUp(io, { worker: f.worker !== false, log: (l) => say(`shipbatch: ${l}`) });
  } catch (err) {
    io.err(`shipbatch: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof StartupFailed ? err.code : 1;
  }
  const { stack, worker, config } = services;
  try {
    let checked = '';
    if (worker) {
      const connection = await Connection.connect({ ...config.temporal.connection });
      try {
        const client = new Client({ connection, namespace: stack.namespace });
        const checkId = `stack-check-${Date.now()}`;
        const check = await client.workflow.execute(stackCheck, {
          taskQueue: config.taskQueue,
          workflowId: checkId,
          args: [checkId],
          workflowExecutionTimeout: '1m',
        });
        checked = ` (stack check ${check.checkId} written by ${check.worker})`;
      } finally {
        await connection.close();
      }
    }
    const stateFile = await writeDevState({
      pid: process.pid,
      temporalAddress: stack.temporalAddress,
      namespace: stack.namespace,
      databaseUrl: stack.databaseUrl,
      uiUrl: stack.uiUrl,
      dataDir: stack.dataDir,
      startedAt: new Date().toISOString(),
    });
    if (f.json) {
      io.out(
        `${JSON.stringify({
          temporalAddress: stack.temporalAddress,
          namespace: stack.namespace,
          uiUrl: stack.uiUrl ?? null,
          database: describeDatabaseUrl(stack.databaseUrl),
          taskQueue: worker ? config.taskQueue : null,
          logDir: stack.logDir,
          stateFile,
        })}\n`,
      );
    } else {
      say('');
      say(`  Temporal Web UI   ${stack.uiUrl ?? '(external Temporal: use its UI)'}`);
      say(`  Temporal address  ${stack.temporalAddress} (namespace ${stack.namespace})`);
      say(`  PostgreSQL        ${describeDatabaseUrl(stack.databaseUrl)}`);
      say(
        worker
          ? `  Worker            polling task queue ${config.taskQueue}${checked}`
          : '  Worker            none (--no-worker): run `shipbatch worker`',
      );
      say(`  Logs              ${stack.logDir}`);
      say(`  State file        ${stateFile} (other shipbatch commands here use these services)`);
      say('');
      say('shipbatch: ready. Press Ctrl-C to stop.');
    }
    const ended = await Promise.race([
      signal,
      worker ? worker.exited.then((c) => `worker exited (${c})`) : new Promise<never>(() => undefined),
    ]);
    const code = ended === 'SIGINT' || ended === 'SIGTERM' ? 0 : 1;
    if (code !== 0) io.err(`shipbatch: the ${ended}; see ${worker?.logFile}\n`);
    say('shipbatch: stopping the worker, PostgreSQL and Temporal…');
    return code;
  } catch (err) {
    io.err(`shipbatch: ${describeStartupError(err)}\n`);
    return 1;
  } finally {
    removeDevState(stack.dataDir);
    await services.stop();
    say('shipbatch: stopped');
  }
}

// ---------------------------------------------------------------- worker

/** `shipbatch worker`: workers/main.ts as a child with this terminal; Ctrl-C shuts it down gracefully. */
export async function workerCommand(io: Io): Promise<number> {
  const { clientEnv } = await import('../config');
  const child = spawn(process.execPath, ['--import', TSX, WORKER_MAIN], {
    env: clientEnv(process.env),
    stdio: 'inherit',
  });
  // The child shares the terminal's process group (it gets Ctrl-C too); forward a TERM sent to us alone.
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', () => undefined); // the child decides when it is done
  return new Promise((resolve) => {
    child.on('error', (err) => {
      io.err(`shipbatch: could not start the worker: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

// ---------------------------------------------------------------- demo

const DEMO_TABLE = 'shipbatch_demo_orders';

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

async function askApproval(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * The demo ships every example order, approving by itself when unattended: it runs only with the UPS
 * sandbox, never with a UPS server that could be the real one. Any other transport (the only setting
 * that selects the UPS server the worker calls) is refused before anything starts (exit 2).
 */
function sandboxOnly(config: ShipbatchConfig): ShipbatchConfig {
  if (config.ups.transport === 'sandbox') return config;
  throw new StartupFailed(
    `the demo runs only against the UPS sandbox (it ships all the example orders), but SHIPBATCH_UPS_TRANSPORT=${config.ups.transport} selects another UPS server; nothing was started. ` +
      'Fix: unset SHIPBATCH_UPS_TRANSPORT to run the demo (the sandbox is the default); ship your own orders with `shipbatch dev` and `shipbatch start`',
    2,
  );
}

/**
 * `shipbatch demo` (= `npm start`): embedded stack up, examples/orders.csv imported, a confirm-mode
 * batch started, its preview printed, approved (asked on a TTY; automatic with --yes, CI=true or no TTY),
 * followed to the end, then labels PDF + results CSV under <data dir>/out/ and the Web UI link. Stops
 * everything it started unless --keep. Only with the UPS sandbox: see {@link sandboxOnly}.
 */
export async function demoCommand(
  f: { yes?: boolean; keep?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  const say = (line = '') => io.out(`${line}\n`);
  const step = (line: string) => say(`\n== ${line}`);
  let demoConfig: ShipbatchConfig;
  try {
    demoConfig = sandboxOnly(startupConfig());
  } catch (err) {
    io.err(`shipbatch: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof StartupFailed ? err.code : 1;
  }
  const interactive = io.tty && process.stdin.isTTY && !f.yes && !/^(1|true)$/i.test(process.env.CI ?? '');
  let interrupted = false;
  let services: Services | undefined;
  const onSignal = () => {
    interrupted = true;
    io.err('\nshipbatch: interrupted; stopping…\n');
    // The batch itself is durable: it resumes when a worker runs again (`shipbatch dev`).
    void services?.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  step('Starting the embedded stack (Temporal dev server, PostgreSQL, a worker)');
  try {
    services = await bringUp(io, { worker: true, log: (l) => say(`   ${l}`), config: demoConfig });
  } catch (err) {
    io.err(`shipbatch: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof StartupFailed ? err.code : 1;
  }
  const { stack, config } = services;
  let client: ShipbatchClient | undefined;
  try {
    client = await ShipbatchClient.connect({ config });
    const pool = await client.pool();

    step(`Importing examples/orders.csv into table ${DEMO_TABLE}`);
    const { importFile } = await import('../../activities/source');
    const imported = await importFile(pool, {
      file: path.join(ROOT, 'examples', 'orders.csv'),
      table: DEMO_TABLE,
      replace: true,
    });
    say(
      `   ${imported.rows} rows, ${imported.columns.length} columns (key column ${imported.keyColumn}${imported.addedKey ? ', added' : ''})`,
    );

    step('Starting a batch in confirm mode');
    const { readFile } = await import('node:fs/promises');
    const template = await readFile(path.join(ROOT, 'examples', 'template.njk'), 'utf8');
    const shipper = JSON.parse(await readFile(path.join(ROOT, 'examples', 'shipper.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const name = `demo ${stamp()}`;
    const started = await client.startBatch({
      name,
      source: { table: DEMO_TABLE },
      template,
      shipper: shipper as never,
      mode: 'confirm',
    });
    const id = started.batchId;
    const webUi = stack.uiUrl
      ? `${stack.uiUrl}/namespaces/${encodeURIComponent(stack.namespace)}/workflows/${encodeURIComponent(id)}`
      : client.webUiUrl(id);
    say(`   ${id} started; follow it in the Web UI: ${webUi}`);

    const ready = await watchBatch(client, id, {
      show: true,
      tty: io.tty,
      write: io.out,
      until: (s) => s.phase === 'awaiting_approval' || s.phase === 'executing',
    });
    if (FINAL_PHASES.has(ready.phase))
      throw new Error(`the batch closed before approval: ${ready.phase} ${ready.error ?? ''}`);

    step('Preview');
    const preview = await client.getPreview(id);
    if (!preview) throw new Error('the batch has no preview');
    const invalid = (await client.batchRows(id, { status: 'invalid', limit: 10 })).map((r) => ({
      rowNo: r.rowNo,
      errors: r.errors,
    }));
    printPreview(io, id, preview, invalid);

    step('Approval');
    const question = `   Ship ${preview.validRows} rows for about ${formatMoney(preview.totalEstimatedCostCents, preview.currency)}? [y/N] `;
    const yes = interactive ? await askApproval(io, question) : true;
    if (!yes) {
      await client.rejectBatch(id, { reason: 'declined in the demo' });
      say(`   rejected: nothing ships. The batch stays visible in the Web UI: ${webUi}`);
      return 0;
    } else {
      const approved = await client.approveBatch(id, {
        previewHash: preview.previewHash,
        by: interactive ? 'demo (you)' : 'demo (auto-approved)',
      });
      say(
        `   approved by ${approved.approval?.by ?? 'demo'}${interactive ? '' : ' (no TTY, CI=true or --yes)'}`,
      );
    }

    step('Shipping');
    let final: BatchStatus = await watchBatch(client, id, {
      show: true,
      tty: io.tty,
      write: io.out,
      until: (s) => s.phase === 'awaiting_action',
    });
    if (final.phase === 'awaiting_action') {
      say(
        `   ${final.counts.failed} rows failed and ${final.counts.needsReview} need review; the demo finishes the batch (leaving them as they are)`,
      );
      await client.finishBatch(id);
      final = await watchBatch(client, id, { show: false, tty: false });
    }
    say(
      `   ${final.phase}: ${final.counts.shipped} shipped, ${final.counts.failed} failed, ${final.counts.invalid} invalid; ` +
        `cost ${formatMoney(final.actualCostCents, final.currency)}`,
    );

    step('Results');
    const outDir = path.join(config.dataDir, 'out');
    await mkdir(outDir, { recursive: true });
    const { writeLabels } = await import('../labels');
    const labels = await writeLabels(client.batchLabels(id), { out: path.join(outDir, `${id}-labels.pdf`) });
    const csvFile = path.join(outDir, `${id}-results.csv`);
    const rows = await writeRowsCsv(client, id, csvFile);
    say(`   labels   ${labels.files[0] ?? '(none: nothing shipped)'} (${labels.labels} pages, 4×6 in)`);
    say(`   results  ${csvFile} (${rows} rows)`);
    say(`   Web UI   ${webUi}`);
    say('');
    say(
      'Next: the same steps by hand — see "Tour" in README.md (shipbatch dev, import, start, preview, approve, watch, labels).',
    );

    if (f.keep && !interrupted) {
      say('');
      say(`shipbatch: the stack keeps running (Web UI ${stack.uiUrl ?? '-'}); Ctrl-C to stop.`);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await writeDevState({
        pid: process.pid,
        temporalAddress: stack.temporalAddress,
        namespace: stack.namespace,
        databaseUrl: stack.databaseUrl,
        uiUrl: stack.uiUrl,
        dataDir: stack.dataDir,
        startedAt: new Date().toISOString(),
      });
      await waitForSignal();
      removeDevState(stack.dataDir);
    }
    return 0;
  } catch (err) {
    io.err(
      `shipbatch: demo failed: ${describeStartupError(err)}${services.worker ? ` (worker log: ${services.worker.logFile})` : ''}\n`,
    );
    return 1;
  } finally {
    await client?.close();
    say('shipbatch: stopping the worker, PostgreSQL and Temporal…');
    await services.stop();
    say('shipbatch: stopped');
  }
}
