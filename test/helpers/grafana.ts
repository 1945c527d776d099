/** The PromQL of a Grafana dashboard JSON (`ops/grafana/shipbatch.json`): panel targets and variable queries. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DASHBOARD_FILE = path.join(import.meta.dirname, '..', '..', 'ops', 'grafana', 'shipbatch.json');

export interface Dashboard {
  title: string;
  uid: string;
  templating: { list: { name: string; type: string; query: unknown; datasource?: unknown }[] };
  panels: Panel[];
}

export interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { type: string; uid: string } }[];
  panels?: Panel[];
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression the dashboard runs: panel targets and query variables. */
export function dashboardQueries(d: Dashboard): string[] {
  const targets = allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const variables = d.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => (typeof v.query === 'string' ? v.query : (v.query as { query: string }).query));
  return [...targets, ...variables];
}

/** The metric names starting with `prefix` that the queries name. */
export function queriedMetrics(queries: readonly string[], prefix: string): Set<string> {
  const re = new RegExp(`\\b${prefix}[a-zA-Z0-9_]*`, 'g');
  return new Set(queries.flatMap((q) => q.match(re) ?? []));
}

/** The label names an expression groups by (`by (…)`) or matches on (`{name=~…}`), `le` left out. */
export function labelsUsed(expr: string): Set<string> {
  const grouped = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(','));
  const matched = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...m[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!),
  );
  return new Set([...grouped, ...matched].map((l) => l.trim()).filter((l) => l !== '' && l !== 'le'));
}
