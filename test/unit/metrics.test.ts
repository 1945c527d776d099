/**
 * Metrics without a server: SHIPBATCH_METRICS_ADDRESS parsing, what the UPS client and the session pool record
 * (on a recording meter), and the Grafana dashboard checked against activities/metrics.ts so a name cannot
 * drift. The endpoint itself, on a real worker process, is test/e2e/metrics.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../temporal.config';
import {
  allScrapedNames,
  createMetrics,
  histogramBuckets,
  METRICS,
  scrapedNames,
} from '../../activities/metrics';
import { SendWithheld, UpsClient } from '../../activities/ups/client';
import { UpsTransportError, type CallOptions } from '../../activities/ups/connection';
import { UpsSessionPool, type UpsSession } from '../../activities/ups/session-pool';
import { TOOL_NAMES } from '../helpers/ups-sandbox';
import { requestError, toolErrorResult, upsHttpError } from '../../ups-sandbox/errors';
import { allPanels, dashboardQueries, queriedMetrics, readDashboard } from '../helpers/grafana';

const base = { HOME: '/home/test', TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' };

test('SHIPBATCH_METRICS_ADDRESS: off unless set; host:port with an IP, localhost, [IPv6], or off', () => {
  assert.equal(loadConfig(base).worker.metricsAddress, undefined, 'off by default');
  const parsed = (v: string) => loadConfig({ ...base, SHIPBATCH_METRICS_ADDRESS: v }).worker.metricsAddress;
  assert.equal(parsed('127.0.0.1:9464'), '127.0.0.1:9464');
  assert.equal(parsed(' 0.0.0.0:9100 '), '0.0.0.0:9100');
  assert.equal(parsed('localhost:9500'), '127.0.0.1:9500', 'the runtime binds IPs only');
  assert.equal(parsed('[::1]:9464'), '[::1]:9464');
  assert.equal(parsed('off'), undefined);
  assert.equal(parsed('OFF'), undefined);
  assert.equal(parsed(''), undefined, 'empty counts as unset');
});

test('a bad SHIPBATCH_METRICS_ADDRESS is an error naming the variable and the value', () => {
  for (const bad of [
    '9464',
    '127.0.0.1',
    '127.0.0.1:0',
    '127.0.0.1:70000',
    'metrics.example:9464',
    '::1:9464',
    '[127.0.0.1]:9464',
    '300.1.1.1:9464',
    'http://127.0.0.1:9464',
  ]) {
    assert.throws(
      () => loadConfig({ ...base, SHIPBATCH_METRICS_ADDRESS: bad }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes(`SHIPBATCH_METRICS_ADDRESS=${JSON.stringify(bad)}`) &&
        err.message.includes('expected host:port'),
      bad,
    );
  }
});

interface Recorded {
  name: string;
  kind: string;
  value: number;
  tags: MetricTags;
}

/** A meter that keeps every value recorded on it. */
function recordingMeter(): { meter: MetricMeter; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const metric = (name: string, kind: string) => {
    const put = (value: number, tags: MetricTags = {}) => recorded.push({ name, kind, value, tags });
    return { name, kind, valueType: 'int', add: put, record: put, set: put, withTags: () => assert.fail() };
  };
  const meter = {
    createCounter: (name: string) => metric(name, 'counter'),
    createHistogram: (name: string) => metric(name, 'histogram'),
    createGauge: (name: string) => metric(name, 'gauge'),
    withTags: () => assert.fail('not used'),
  } as unknown as MetricMeter;
  return { meter, recorded };
}

const of = (recorded: Recorded[], name: string) => recorded.filter((r) => r.name === name);

test('row outcomes and render times are recorded under their names and labels', () => {
  const { meter, recorded } = recordingMeter();
  const metrics = createMetrics(meter);
  metrics.rowOutcome('batch-a', 'shipped');
  metrics.rowOutcome('batch-a', 'needs_review', 3);
  metrics.rowOutcome('batch-a', 'failed', 0);
  metrics.templateRendered(4, 10);
  assert.deepEqual(
    of(recorded, 'shipbatch_rows').map((r) => [r.value, r.tags]),
    [
      [1, { batch: 'batch-a', status: 'shipped' }],
      [3, { batch: 'batch-a', status: 'needs_review' }],
    ],
    'nothing recorded for no rows',
  );
  const render = of(recorded, 'shipbatch_template_render_ms');
  assert.deepEqual(
    render.map((r) => r.value),
    [2.5, 2.5, 2.5, 2.5],
    'one value per row: count = rows, sum = time',
  );
});

/** A UpsClient over a stub connection that answers each call with `answer(tool)`. */
function clientAnswering(answer: (tool: string) => CallToolResult | Error, meter: MetricMeter) {
  const connection = {
    async callTool(tool: string, _args: unknown, opts: CallOptions): Promise<CallToolResult> {
      await opts.beforeSend?.();
      const result = answer(tool);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    },
    close: () => Promise.resolve(),
  } as unknown as ConstructorParameters<typeof UpsClient>[0];
  return new UpsClient(connection, { tools: TOOL_NAMES, callTimeoutMs: 1000, metrics: createMetrics(meter) });
}

test('each UPS call is counted and timed once, by tool and outcome: ok or the error category', async () => {
  const { meter, recorded } = recordingMeter();
  const ok = { content: [{ type: 'text', text: '{"VoidShipmentResponse":{}}' }] } as CallToolResult;
  const client = clientAnswering((tool) => {
    if (tool === TOOL_NAMES.void) return ok;
    if (tool === TOOL_NAMES.track) return new UpsTransportError('refused', false);
    return toolErrorResult(tool, upsHttpError(400, '120802', 'Address Validation Error on ShipTo address'));
  }, meter);
  await client.voidShipment('1ZA1B2C30300000017').catch(() => undefined);
  await client.track('1ZA1B2C30300000017').catch(() => undefined);
  await client.rate({ RateRequest: {} }).catch(() => undefined);
  const counted = of(recorded, 'shipbatch_ups_calls').map((r) => r.tags);
  assert.deepEqual(counted, [
    { tool: 'void_shipment', outcome: 'ok' },
    { tool: 'track_package', outcome: 'transport' },
    { tool: 'rate_shipment', outcome: 'address' },
  ]);
  assert.deepEqual(
    of(recorded, 'shipbatch_ups_call_duration_ms').map((r) => r.tags),
    counted,
    'one duration per counted call, with the same labels',
  );
  const timeout = clientAnswering(
    (tool) => toolErrorResult(tool, requestError('Read timed out. (read timeout=30)')),
    meter,
  );
  await timeout.rate({ RateRequest: {} }).catch(() => undefined);
  assert.equal(of(recorded, 'shipbatch_ups_calls').at(-1)!.tags.outcome, 'transport');
});

test('a call its hook withheld is no UPS call: not counted', async () => {
  const { meter, recorded } = recordingMeter();
  const client = clientAnswering(() => assert.fail('nothing is sent'), meter);
  const withhold = () => Promise.reject(new SendWithheld('superseded'));
  await assert.rejects(
    client.createShipment({ ShipmentRequest: {} } as never, undefined, withhold),
    SendWithheld,
  );
  assert.deepEqual(of(recorded, 'shipbatch_ups_calls'), []);
});

test('the pool records its size, the sessions busy and each wait for a session', async () => {
  const { meter, recorded } = recordingMeter();
  const releases: (() => void)[] = [];
  const session: UpsSession = {
    callTool: () => new Promise<CallToolResult>((resolve) => releases.push(() => resolve({ content: [] }))),
    listTools: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
  const pool = new UpsSessionPool(2, () => ({ ...session }), 'stub', createMetrics(meter));
  const busy = () => of(recorded, 'shipbatch_ups_sessions_busy').at(-1)!.value;
  assert.equal(of(recorded, 'shipbatch_ups_sessions').at(-1)!.value, 2, 'the size, from the start');
  assert.equal(busy(), 0);
  const calls = [0, 1, 2].map(() => pool.callTool('rate_shipment', {}, { timeoutMs: 1000 }));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(busy(), 2, 'two sessions busy, the third call waits');
  assert.equal(of(recorded, 'shipbatch_ups_session_wait_ms').length, 2, 'the waiting call is not timed yet');
  releases.shift()!();
  await new Promise((r) => setTimeout(r, 10));
  const waits = of(recorded, 'shipbatch_ups_session_wait_ms').map((r) => r.value);
  assert.equal(waits.length, 3);
  assert.ok(waits[2]! >= 20, `the third call waited for a session (${waits[2]} ms)`);
  assert.equal(busy(), 2, 'the freed session went straight to the waiting call');
  for (const release of releases.splice(0)) release();
  await new Promise((r) => setTimeout(r, 10));
  for (const release of releases.splice(0)) release();
  await Promise.all(calls);
  assert.equal(busy(), 0);
  await pool.close();
});

test('the Grafana dashboard queries only metrics that exist, with a Prometheus datasource variable', () => {
  const dashboard = readDashboard();
  const variables = dashboard.templating.list;
  const ds = variables.find((v) => v.type === 'datasource');
  assert.equal(ds?.name, 'datasource');
  assert.equal(ds?.query, 'prometheus');
  const panels = allPanels(dashboard).filter((p) => p.type !== 'row');
  assert.ok(panels.length >= 10, `${panels.length} panels`);
  for (const p of panels) {
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
    assert.ok((p.targets ?? []).length > 0, `${p.title} has queries`);
    for (const t of p.targets!) assert.equal(t.datasource?.uid, '${datasource}', p.title);
  }

  const queries = dashboardQueries(dashboard);
  const queried = queriedMetrics(queries, 'shipbatch_');
  const defined = allScrapedNames();
  for (const name of queried) assert.ok(defined.has(name), `${name} is defined in activities/metrics.ts`);
  for (const def of Object.values(METRICS)) {
    assert.ok(
      scrapedNames(def).some((n) => queried.has(n)),
      `${def.name} has a panel`,
    );
  }
  // Histograms are read as quantiles over their buckets, which shipbatch sets.
  for (const name of Object.keys(histogramBuckets()))
    assert.ok(
      queries.some((q) => q.includes(`histogram_quantile(0.99`) && q.includes(`${name}_bucket`)),
      name,
    );
  const temporal = queriedMetrics(queries, 'temporal_');
  for (const name of [
    'temporal_activity_schedule_to_start_latency_bucket',
    'temporal_workflow_task_execution_latency_bucket',
  ])
    assert.ok(temporal.has(name), `${name} has a panel`);
});

test('the README names every metric with its labels', () => {
  const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('\n## Metrics\n'),
    readme.indexOf('\n## Running in production'),
  );
  assert.ok(section.length > 1000, 'the Metrics section');
  for (const def of Object.values(METRICS)) {
    const row = section
      .split('\n')
      .find((l) => l.startsWith(`| \`${scrapedNames(def)[0]!.replace(/_bucket$/, '')}\``));
    assert.ok(row, `${def.name} has a row`);
    for (const label of def.labels) assert.ok(row.includes(`\`${label}\``), `${def.name}: label ${label}`);
  }
});
