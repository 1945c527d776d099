/**
 * The commands that run services in the foreground: `dev` (the embedded stack and a worker) and `worker`.
 */
import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { describeDatabaseUrl } from '../../db/pool';
import { stackCheck } from '../../workflows';
import { describeStartupError } from '../../stack/errors';
import { removeDevState } from '../config';
import type { Io } from './io';
import {
  bringUp,
  recordDevState,
  reportStartupFailure,
  TSX,
  waitForSignal,
  WORKER_MAIN,
  type Services,
} from './stack-services';

/** `shipbatch dev`: the embedded stack + a worker in the foreground; Ctrl-C stops everything, worker first. */
export async function devCommand(f: { worker?: boolean; json?: boolean }, io: Io): Promise<number> {
  const say = (line: string) => io.out(`${line}\n`);
  const signal = waitForSignal();
  let services: Services;
  try {
    services = await bringUp(io, { worker: f.worker !== false, log: (l) => say(`shipbatch: ${l}`) });
  } catch (err) {
    return reportStartupFailure(io, err);
  }
  const { stack, worker, config, metricsAddress } = services;
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
    const stateFile = await recordDevState(stack);
    if (f.json) {
      io.out(
        `${JSON.stringify({
          temporalAddress: stack.temporalAddress,
          namespace: stack.namespace,
          uiUrl: stack.uiUrl ?? null,
          database: describeDatabaseUrl(stack.databaseUrl),
          taskQueue: worker ? config.taskQueue : null,
          metricsUrl: metricsAddress ? `http://${metricsAddress}/metrics` : null,
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
      if (metricsAddress) say(`  Metrics           http://${metricsAddress}/metrics (Prometheus)`);
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
