/**
 * Batch ids: a user's id checked (`x` → `batch-x`), and the id a new batch gets from its name. No Temporal
 * client here: commands that read only the ledger check ids without loading it.
 */
import { randomUUID } from 'node:crypto';
import { BatchIdSchema, describeIssues } from '../domain/batch';
import { BatchInputError } from './errors';

/** A user's batch id, checked: `batch-x` as is, `x` → `batch-x`. */
export function normalizeBatchId(id: string): string {
  const full = id.startsWith('batch-') ? id : `batch-${id}`;
  const r = BatchIdSchema.safeParse(full);
  if (!r.success) {
    throw new BatchInputError(`invalid batch id ${JSON.stringify(id)}: ${describeIssues(r.error)}`, {
      fix: 'use letters, digits, ".", "_" and "-" (at most 64 after "batch-")',
    });
  }
  return full;
}

/** Slug of a batch name usable in a workflow id: `Spring sale #2` → `spring-sale-2`. */
export function batchIdFor(name: string | undefined): string {
  const slug = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 48)
    .replace(/[-.]+$/, '');
  return `batch-${slug || randomUUID().slice(0, 8)}`;
}
