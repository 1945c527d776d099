/** The Web UI's current details of a tracking workflow: packages per status, exceptions, the next look. */
import type { TrackingState } from '../domain/tracking';

export function trackingMarkdown(s: TrackingState): string {
  const c = s.counts;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  return [
    `**${s.phase}** · batch ${s.batchId} · ${total} packages`,
    `delivered ${c.delivered} · out for delivery ${c.out_for_delivery} · in transit ${c.in_transit} · label created ${c.label_created} · exception ${c.exception} · returned ${c.returned} · voided ${c.voided}`,
    ...(s.exceptions > 0
      ? [
          `**${s.exceptions} in exception**: \`shipbatch track ${s.batchId} --status exception\` lists them with UPS's words.`,
        ]
      : []),
    ...(s.statusWriteBackError
      ? [`status write-back stopped (the tracking goes on): ${s.statusWriteBackError}`]
      : []),
    s.nextCheckAt
      ? `next look ${s.nextCheckAt} · tracking until ${s.deadline}`
      : `tracking until ${s.deadline}`,
  ].join('\n\n');
}
