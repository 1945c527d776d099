/** What a chaos run prints: one summary line per scenario, and the offending rows of a breach. */
import type { ScenarioOutcome } from './run';

/** `chaos worker-kill PASS rows 2000 kills 25 restarts 25 … wall 312.4 s`. */
export function summaryLine(o: ScenarioOutcome): string {
  const c = o.checks;
  const figure = (n: number | undefined) => (n === undefined ? '?' : String(n));
  return [
    `chaos ${o.name}`,
    o.passed ? 'PASS' : 'FAIL',
    `rows ${figure(c?.rows)}`,
    `shipped ${figure(c?.shipped)}`,
    `kills ${o.fleet.kills}`,
    `sigterms ${o.fleet.terms}`,
    `restarts ${o.fleet.restarts}`,
    `crashes ${o.fleet.crashes}`,
    `faults ${o.faults - o.fleet.kills - o.fleet.terms}`,
    `ups-faults ${figure(c?.upsFaults)}`,
    `doubtful ${figure(c?.doubtful)}`,
    `duplicates ${figure(c?.duplicates)}`,
    `lost ${figure(c?.lost)}`,
    `needs_review ${figure(c?.needsReview)}`,
    `wall ${(o.wallMs / 1000).toFixed(1)} s`,
    `seed ${o.seed}`,
  ].join(' ');
}

/** The breaches, at most `max` lines (rows first in row order), then a count of the rest. */
export function breachLines(o: ScenarioOutcome, max = 50): string[] {
  const lines = o.breaches.map((b) =>
    b.rowNo !== undefined || b.reference !== undefined
      ? `  row ${b.rowNo ?? '-'} ${b.reference ?? '-'}: ledger ${b.ledgerStatus ?? '(no row)'}, sandbox shipments ${b.sandboxShipments ?? 0}: ${b.why}`
      : `  ${b.why}`,
  );
  const shown = lines.slice(0, max);
  if (lines.length > max) shown.push(`  … and ${lines.length - max} more`);
  return [...shown, ...o.notes.map((n) => `  note: ${n}`)];
}
