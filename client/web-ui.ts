/**
 * What the Temporal Web UI shows of a batch from the client (docs/design.md §6): the static summary and
 * details set at start, and the address of the batch's page.
 */
import type { BatchInput } from '../domain/batch';

/** Markdown-safe text (names come from user files). */
function mdText(s: string): string {
  return s.replace(/[\\`*_[\]<>#|~]/g, (c) => `\\${c}`).replace(/\s+/g, ' ');
}

/** The Web UI's summary line (≤ 200 bytes): rows are unknown at start, so it names the source. */
export function batchSummary(input: BatchInput, batchId: string): string {
  const line = `Batch ${input.name ?? batchId}: ${input.source.table}, ${input.mode}`;
  if (Buffer.byteLength(line) <= 200) return line;
  const chars = Array.from(line); // whole code points: never half a character
  while (Buffer.byteLength(`${chars.join('')}…`) > 200) chars.pop();
  return `${chars.join('')}…`;
}

/** The Web UI's details (markdown): source, filter, shipper, options. */
export function batchDetails(input: BatchInput): string {
  const filter = input.source.filter;
  // A fence longer than any backtick run in the filter, so the filter cannot close it.
  const fence = '`'.repeat(Math.max(3, ...[...(filter ?? '').matchAll(/`+/g)].map((m) => m[0].length + 1)));
  const o = input.options;
  return [
    `**Source** \`${input.source.table}\` (key \`${input.source.keyColumn}\`)`,
    filter ? `**Filter**\n${fence}sql\n${filter}\n${fence}` : '**Filter** none (every row)',
    `**Shipper** ${mdText(input.shipper.Name)} (${mdText(input.shipper.ShipperNumber)})`,
    `**Mode** ${input.mode}; preview ${o.rateAll ? 'all rows' : `${o.previewRows} rows`}; concurrency ${o.concurrency}; labels ${o.labelFormat}`,
  ].join('\n\n');
}

/** The page of a batch on the Web UI at `base` (e.g. `http://127.0.0.1:8233`). */
export function batchPageUrl(base: string, namespace: string, batchId: string): string {
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(batchId)}`;
}
