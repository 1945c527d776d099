/**
 * What the real server's pre-call checks report: the request kinds it checks and the missing required
 * fields, with what an elicitation form needs to ask for them.
 */
import type { JsonObject } from '../json';

/** The two request kinds the server checks before calling UPS. */
export type RequestRoot = 'RateRequest' | 'ShipmentRequest';

/** A required field that is absent, with what an elicitation form needs to ask for it. */
export interface MissingField {
  dot_path: string;
  flat_key: string;
  prompt: string;
  /** `number`/`integer` fields are asked as numbers. */
  kind: 'string' | 'number' | 'integer';
  /** Allowed codes (and their titles). */
  choices?: readonly (readonly [string, string | undefined])[];
  default?: string;
  maxLength?: number;
  pattern?: string;
  /** Exclusive lower bound. */
  gt?: number;
  /** False for objects/arrays a flat form cannot collect (STRUCTURAL_FIELDS_REQUIRED). */
  elicitable: boolean;
}

/** The `missing` entries of the server's error payloads. */
export function missingPayload(fields: MissingField[]): JsonObject[] {
  return fields.map((f) => ({ dot_path: f.dot_path, flat_key: f.flat_key, prompt: f.prompt }));
}
