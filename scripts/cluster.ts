/**
 * `npm run cluster -- start|stop|status|env`: a production-like local Temporal topology — the four
 * Temporal services as separate processes on PostgreSQL — for rehearsing a self-hosted deployment and
 * for `npm run test:cluster`. State lives in `<data dir>/cluster` (SHIPBATCH_DATA_DIR, or --data-dir).
 *
 *   start   build the server once (cached), bring everything up, register namespace + search attributes
 *   stop    stop the services, then PostgreSQL
 *   status  each process (pid, port, RSS, restarts) and whether the frontend answers
 *   env     the TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / DATABASE_URL lines for a worker or `npm test`
 *   run     the supervisor in the foreground (what `start` runs detached)
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../temporal.config';
import { describeDatabaseUrl } from '../db/pool';
import { describeStartupError } from '../stack/errors';
import { PORT_NAMES, parsePortOverride, type ClusterPorts } from '../stack/cluster/config';
import {
  DEFAULT_TEMPORAL_SERVER_VERSION,
  clusterStatus,
  startCluster,
  stopCluster,
} from '../stack/cluster/control';
import { superviseCluster } from '../stack/cluster/supervisor';

const USAGE = `usage: npm run cluster -- <start|stop|status|env|run> [options]
  --data-dir DIR        cluster state (default: <SHIPBATCH_DATA_DIR>/cluster)
  --port NAME=PORT      override one port (repeatable); names: ${PORT_NAMES.join(', ')}
  --free-ports          pick free ports for every port not given
  --namespace NAME      namespace to register (default: TEMPORAL_NAMESPACE or default)
  --version vX.Y.Z      Temporal server release (default ${DEFAULT_TEMPORAL_SERVER_VERSION})
  --restart-delay-ms N  pause before restarting a service that died (default 1000)
  --json                status as JSON`;

function fail(message: string, code = 1): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        'cache-dir': { type: 'string' },
        port: { type: 'string', multiple: true },
        'free-ports': { type: 'boolean' },
        namespace: { type: 'string' },
        version: { type: 'string' },
        'restart-delay-ms': { type: 'string' },
        ephemeral: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  if (positionals.length > 1) fail(`unexpected argument ${JSON.stringify(positionals[1])}\n${USAGE}`, 2);

  const config = loadConfig();
  const dataDir = path.resolve(values['data-dir'] ?? path.join(config.dataDir, 'cluster'));
  const cacheDir = path.resolve(values['cache-dir'] ?? config.temporal.devServer.cacheDir);
  const ports: Partial<ClusterPorts> = {};
  for (const text of values.port ?? []) {
    try {
      const [name, port] = parsePortOverride(text);
      ports[name] = port;
    } catch (err) {
      fail((err as Error).message, 2);
    }
  }
  const delayText = values['restart-delay-ms'] ?? '1000';
  if (!/^\d{1,6}$/.test(delayText))
    fail(`--restart-delay-ms ${JSON.stringify(delayText)}: expected milliseconds (0-999999)`, 2);
  const version = values.version ?? DEFAULT_TEMPORAL_SERVER_VERSION;
  const namespace = values.namespace ?? config.temporal.namespace;
  // Temporal's own rule for namespace names (letters, digits, . _ -; at most 255).
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(namespace)) {
    fail(
      `namespace ${JSON.stringify(namespace)}: expected letters, digits, '.', '_' or '-' (at most 255)`,
      2,
    );
  }
  if (!/^v\d+\.\d+\.\d+$/.test(version))
    fail(`--version ${JSON.stringify(version)}: expected a release tag such as v1.29.1`, 2);

  switch (command) {
    case 'start': {
      const state = await startCluster({
        dataDir,
        cacheDir,
        version,
        namespace,
        ports,
        freePorts: values['free-ports'],
        restartDelayMs: Number(delayText),
        ephemeral: values.ephemeral,
      });
      process.stdout.write(
        [
          `Temporal ${state.temporalVersion} cluster ready at ${state.frontendAddress} (namespace ${state.namespace}; ` +
            `started in ${((state.readyAfterMs ?? 0) / 1000).toFixed(1)} s)`,
          `  PostgreSQL ${describeDatabaseUrl(state.databaseUrl)} (shipbatch's database; Temporal's: temporal, temporal_visibility)`,
          `  for a worker or npm test (the database password is in its output):  eval "$(npm run -s cluster -- env${values['data-dir'] ? ` --data-dir ${dataDir}` : ''})"`,
          `  Web UI: not bundled with the server; run the Temporal UI server (temporalio/ui image or ui-server binary)`,
          `          with TEMPORAL_ADDRESS=${state.frontendAddress}, e.g. docker run --network host -e TEMPORAL_ADDRESS=${state.frontendAddress} -e TEMPORAL_UI_PORT=8080 temporalio/ui`,
          `  status: npm run cluster -- status --data-dir ${dataDir}`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    case 'run':
      await superviseCluster({
        dataDir,
        cacheDir,
        version,
        namespace,
        ports: { ...(await import('../stack/cluster/config')).DEFAULT_PORTS, ...ports },
        restartDelayMs: Number(delayText),
        ephemeral: values.ephemeral ?? false,
      });
      return 0;
    case 'stop':
      process.stdout.write(`${await stopCluster(dataDir)}\n`);
      return 0;
    case 'status': {
      const status = await clusterStatus(dataDir);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      } else if (!status.state) {
        process.stdout.write(`no cluster was started in ${dataDir}\n`);
      } else {
        const s = status.state;
        process.stdout.write(
          `cluster ${s.phase}${status.running ? '' : ' (not running)'}${s.error ? `: ${s.error}` : ''}; ` +
            `frontend ${s.frontendAddress} ${status.frontendServing ? 'answers' : 'does not answer'}\n`,
        );
        for (const p of status.processes) {
          process.stdout.write(
            `  ${p.name.padEnd(10)} ${p.alive ? 'up  ' : 'down'} pid ${String(p.pid ?? '-').padEnd(8)}` +
              `${p.port ? `port ${String(p.port).padEnd(6)}` : ''.padEnd(11)}` +
              `${p.rssMb !== undefined ? ` RSS ${p.rssMb} MB` : ''}${p.restarts ? ` restarts ${p.restarts}` : ''}\n`,
          );
        }
      }
      return status.running ? 0 : 3;
    }
    case 'env': {
      const status = await clusterStatus(dataDir);
      if (!status.running || !status.state)
        fail(`no running cluster in ${dataDir}; run \`npm run cluster -- start\``, 3);
      const s = status.state;
      // `export` lines, single-quoted, so `eval "$(npm run -s cluster -- env)"` sets them for child processes.
      const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
      process.stdout.write(
        `export TEMPORAL_ADDRESS=${quote(s.frontendAddress)}\nexport TEMPORAL_NAMESPACE=${quote(s.namespace)}\n` +
          `export DATABASE_URL=${quote(s.databaseUrl)}\n`,
      );
      return 0;
    }
    default:
      fail(`unknown command ${JSON.stringify(command)}\n${USAGE}`, 2);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => fail(describeStartupError(err)),
);
