/** A message's arguments checked against its schema: the value, or the reason it is refused. */
import { describeIssues } from '../domain/batch';
import type { z } from 'zod';

export type Parsed<S extends z.ZodType> = { ok: true; value: z.output<S> } | { ok: false; reason: string };

/** Parse `raw` (a missing payload is `{}`) with `schema`. */
export function parse<S extends z.ZodType>(schema: S, raw: unknown): Parsed<S> {
  const r = schema.safeParse(raw ?? {});
  return r.success
    ? { ok: true, value: r.data }
    : { ok: false, reason: `bad arguments: ${describeIssues(r.error)}` };
}
