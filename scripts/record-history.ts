/**
 * `npm run record-history -- <workflowId> <name>`: export a finished workflow's event history to
 * `test/histories/<name>.json`, where the replay test replays it against the current workflow code
 * (docs/design.md §10). Record a new history whenever a workflow's behaviour changes (behind `patched()`).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { loadConfig } from '../temporal.config';

const [workflowId, name] = process.argv.slice(2);
if (!workflowId || !name || !/^[\w.-]+$/.test(name)) {
  process.stderr.write(
    'usage: npm run record-history -- <workflowId> <name>   (name: letters, digits, . _ -)\n',
  );
  process.exit(2);
}
const config = loadConfig();
const connection = await Connection.connect(config.temporal.connection);
try {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const file = path.join(import.meta.dirname, '..', 'test', 'histories', `${name}.json`);
  await writeFile(file, `${historyToJSON(history)}\n`);
  process.stdout.write(`wrote ${history.events?.length ?? 0} events to ${file}\n`);
} finally {
  await connection.close();
}
