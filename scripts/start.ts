/**
 * `npm start`: the embedded stack in the foreground — Temporal dev server (SQLite under .data/, Web UI),
 * embedded PostgreSQL (.data/pg) and a shipbatch worker — then a stack check workflow through all of
 * them. Ctrl-C stops everything it started, worker first.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto; // CommonJS package: named ESM imports are not available
import { describeConfig, loadConfig, ConfigError } from '../temporal.config';
import { stackCheck } from '../workflows';
import { describeDatabaseUrl } from '../activities/db';
import { startStack, stackEnv, type RunningStack } from './stack/stack';
import { startProcess, waitFor, type ManagedProcess } from './stack/processes';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function workerIsPolling(client: Client, taskQueue: string, namespace: string): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers?.length ?? 0) > 0;
}

async function main(): Promise<void> {
  const config = loadConfig();
  say(`shipbatch: starting the embedded stack (${JSON.stringify(describeConfig(config).temporal)})`);
  let stack: RunningStack | undefined;
  let worker: ManagedProcess | undefined;
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say('shipbatch: stopping the worker, PostgreSQL and Temporal…');
    await worker?.stop(15_000);
    await stack?.stop();
    say('shipbatch: stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    stack = await startStack(config);
    worker = await startProcess(
      'worker',
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '..', 'workers', 'main.ts')],
      { logDir: stack.logDir, env: { ...process.env, ...stackEnv(stack) } },
    );
    void worker.exited.then((code) => {
      if (shuttingDown) return;
      process.stderr.write(`shipbatch: the worker exited (${code}); see ${worker?.logFile}\n`);
      void shutdown(1);
    });

    const connection = await Connection.connect({
      ...config.temporal.connection,
      address: stack.temporalAddress,
    });
    const client = new Client({ connection, namespace: stack.namespace });
    await waitFor(
      `a worker polling task queue ${config.taskQueue}`,
      () => workerIsPolling(client, config.taskQueue, stack!.namespace),
      60_000,
    );
    const checkId = `stack-check-${Date.now()}`;
    const check = await client.workflow.execute(stackCheck, {
      taskQueue: config.taskQueue,
      workflowId: checkId,
      args: [checkId],
      workflowExecutionTimeout: '1m',
    });
    await connection.close();

    say('');
    say(`  Temporal Web UI   ${stack.uiUrl ?? '(external Temporal: use its UI)'}`);
    say(`  Temporal address  ${stack.temporalAddress} (namespace ${stack.namespace})`);
    say(`  PostgreSQL        ${describeDatabaseUrl(stack.databaseUrl)}`);
    say(
      `  Worker            polling task queue ${config.taskQueue} (stack check ${check.checkId} written by ${check.worker})`,
    );
    say(`  Logs              ${stack.logDir}`);
    say('');
    say('shipbatch: ready. Press Ctrl-C to stop.');
  } catch (err) {
    process.stderr.write(`shipbatch: ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(err instanceof ConfigError ? 2 : 1);
  }
}

void main();
