/**
 * The cluster's ports and the Temporal server configuration written for each service. Each service
 * gets a file of its own (`<dataDir>/config/<service>.yaml`, selected with `--env <service>`) so each
 * process has its own metrics port while sharing stores, membership and cluster metadata.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The four Temporal services, in start order: history first (it owns the shards), frontend last but one. */
export const SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type Service = (typeof SERVICES)[number];

/** Every port the topology listens on (127.0.0.1 only). */
export interface ClusterPorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  frontendMetrics: number;
  historyMetrics: number;
  matchingMetrics: number;
  workerMetrics: number;
}

export const PORT_NAMES = [
  'postgres',
  'frontend',
  'frontendHttp',
  'frontendMembership',
  'history',
  'historyMembership',
  'matching',
  'matchingMembership',
  'worker',
  'workerMembership',
  'frontendMetrics',
  'historyMetrics',
  'matchingMetrics',
  'workerMetrics',
] as const satisfies readonly (keyof ClusterPorts)[];

/**
 * Defaults, away from the dev stack's 7233/8233/54329 so both can run side by side: the frontend on
 * 17233 like the dev server's 7233 plus 10000.
 */
export const DEFAULT_PORTS: ClusterPorts = {
  postgres: 17432,
  frontend: 17233,
  frontendHttp: 17243,
  frontendMembership: 17933,
  history: 17234,
  historyMembership: 17934,
  matching: 17235,
  matchingMembership: 17935,
  worker: 17239,
  workerMembership: 17939,
  frontendMetrics: 17000,
  historyMetrics: 17001,
  matchingMetrics: 17002,
  workerMetrics: 17003,
};

/** Parse `name=port` (e.g. `frontend=27233`), naming the bad part when it is not one. */
export function parsePortOverride(text: string): [keyof ClusterPorts, number] {
  const m = /^([A-Za-z]+)=(\d{1,5})$/.exec(text.trim());
  if (!m) throw new Error(`--port ${JSON.stringify(text)}: expected NAME=PORT, e.g. frontend=27233`);
  const name = m[1] as keyof ClusterPorts;
  if (!(PORT_NAMES as readonly string[]).includes(name)) {
    throw new Error(`--port ${JSON.stringify(text)}: unknown port name; one of ${PORT_NAMES.join(', ')}`);
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`--port ${JSON.stringify(text)}: a port is 1-65535`);
  return [name, port];
}

/** Temporal stores membership ports in a SMALLINT column: above this a service fails to join. */
export const MAX_MEMBERSHIP_PORT = 32767;

/** What is wrong with a set of ports (a clash, a membership port too high), if anything. */
export function portProblem(ports: ClusterPorts): string | undefined {
  const dup = duplicatePort(ports);
  if (dup) return `two of the cluster's ports clash: ${dup}`;
  for (const name of PORT_NAMES) {
    if (name.endsWith('Membership') && ports[name] > MAX_MEMBERSHIP_PORT) {
      return `the ${name} port ${ports[name]} is above ${MAX_MEMBERSHIP_PORT}, which Temporal cannot record (a SMALLINT column)`;
    }
  }
  return undefined;
}

/** The first port used twice, if any (two services on one port would fail obscurely at bind time). */
export function duplicatePort(ports: ClusterPorts): string | undefined {
  const seen = new Map<number, string>();
  for (const name of PORT_NAMES) {
    const other = seen.get(ports[name]);
    if (other) return `${other} and ${name} are both ${ports[name]}`;
    seen.set(ports[name], name);
  }
  return undefined;
}

export interface ServerConfigInput {
  ports: ClusterPorts;
  /** Role the server logs in as, and its password (local cluster: generated and kept under the data dir). */
  dbUser: string;
  dbPassword: string;
  dbName: string;
  visibilityDbName: string;
  numHistoryShards: number;
  dynamicConfigFile: string;
}

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const q = (s: string) => JSON.stringify(s);

/** The server configuration for `service` (its own metrics port; everything else shared). */
export function serverConfigYaml(service: Service, c: ServerConfigInput): string {
  const p = c.ports;
  const store = (db: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: ${q(db)}
        connectAddr: ${q(`127.0.0.1:${p.postgres}`)}
        connectProtocol: "tcp"
        user: ${q(c.dbUser)}
        password: ${q(c.dbPassword)}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const rpc = (grpc: number, membership: number, http?: number) => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  return `# Written by \`shipbatch cluster\` for the ${service} service; regenerated on every start.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${c.numHistoryShards}
  datastores:
    postgres-default:
${store(c.dbName, 10)}
    postgres-visibility:
${store(c.visibilityDbName, 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: ${q(`127.0.0.1:${p[`${service}Metrics`]}`)}

services:
  frontend:
${rpc(p.frontend, p.frontendMembership, p.frontendHttp)}
  history:
${rpc(p.history, p.historyMembership)}
  matching:
${rpc(p.matching, p.matchingMembership)}
  worker:
${rpc(p.worker, p.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: ${q(`127.0.0.1:${p.frontend}`)}

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${q(c.dynamicConfigFile)}
  pollInterval: "10s"
`;
}

/** Dynamic configuration: the few settings shipbatch relies on, stated rather than left to defaults. */
export const DYNAMIC_CONFIG_YAML = `# Written by \`shipbatch cluster\`; regenerated on every start.
# Workflow updates (approve, setMode, restart) and the namespace cache shipbatch's start-up waits on.
frontend.enableUpdateWorkflowExecution:
  - value: true
system.namespaceCacheRefreshInterval:
  - value: 2s
limit.maxIDLength:
  - value: 255
# Eager activities: a worker completing a workflow task gets the activities it scheduled in the reply.
system.enableActivityEagerExecution:
  - value: true
`;

/**
 * Write `<configDir>/<service>.yaml` for every service and the dynamic config (mode 0600: they hold
 * the database password).
 */
export async function writeServerConfig(
  configDir: string,
  input: Omit<ServerConfigInput, 'dynamicConfigFile'>,
): Promise<void> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await chmod(configDir, 0o700);
  // Absolute: the server resolves this path from its working directory.
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig.yaml');
  await writeFile(dynamicConfigFile, DYNAMIC_CONFIG_YAML, { mode: 0o600 });
  for (const service of SERVICES) {
    await writeFile(
      path.join(configDir, `${service}.yaml`),
      serverConfigYaml(service, { ...input, dynamicConfigFile }),
      {
        mode: 0o600,
      },
    );
  }
}
