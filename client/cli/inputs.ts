/**
 * The CLI's input checks, done before anything is sent: files, shipper JSON, flag values, and the
 * template / table / filter checked locally (the same code the worker runs). Every failure is a
 * BatchInputError naming the input and the fix (exit code 2).
 */
import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import type pg from 'pg';
import { describeIssues, MAX_TEMPLATE_CHARS, ModeSchema, RESTART_SCOPES } from '../../domain/batch';
import { ShipperSchema, type Shipper } from '../../domain/shipment-schema';
import { BatchInputError } from '../errors';

async function readInputFile(file: string, what: string, maxBytes: number): Promise<string> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new BatchInputError(`${what} ${file} is not a regular file`);
    if (st.size > maxBytes) {
      throw new BatchInputError(`${what} ${file} is ${st.size} bytes; at most ${maxBytes} are accepted`);
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof BatchInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read (permission denied)'
          : (err as Error).message;
    throw new BatchInputError(`${what} ${file} ${why}`, { fix: `pass the path of an existing ${what}` });
  }
}

/** The template file's text. */
export async function readTemplateFile(file: string): Promise<string> {
  const text = await readInputFile(file, 'template file', MAX_TEMPLATE_CHARS * 4);
  if (text.trim() === '') throw new BatchInputError(`template file ${file} is empty`);
  if (text.length > MAX_TEMPLATE_CHARS) {
    throw new BatchInputError(
      `template file ${file} has ${text.length} characters; at most ${MAX_TEMPLATE_CHARS}`,
    );
  }
  return text;
}

/** The shipper file: JSON of a UPS Shipper, validated. */
export async function readShipperFile(file: string): Promise<Shipper> {
  const text = await readInputFile(file, 'shipper file', 64 * 1024);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BatchInputError(`shipper file ${file} is not valid JSON: ${(err as Error).message}`, {
      fix: 'see examples/shipper.json for the shape (a UPS Shipper object)',
    });
  }
  const r = ShipperSchema.safeParse(raw);
  if (!r.success) {
    throw new BatchInputError(`shipper file ${file} is not a valid UPS Shipper: ${describeIssues(r.error)}`, {
      fix: 'see examples/shipper.json (Name, ShipperNumber of 6 characters, Address…)',
    });
  }
  return r.data;
}

/** Compile the template in the isolate (as the worker will) so a broken template never starts a batch. */
export async function checkTemplateCompiles(file: string, template: string, shipper: Shipper): Promise<void> {
  // Loaded on demand: the isolate's native module is only needed by `start`.
  const { openBatchRenderer } = await import('../../inputs/template');
  const opened = await openBatchRenderer({
    templateSource: template,
    shipper,
    batch: { id: 'batch-check', name: 'check', labelFormat: 'GIF' },
  });
  if (!opened.ok) {
    throw new BatchInputError(`template ${file} does not compile: ${opened.error}`, {
      fix: 'fix the template (nunjucks syntax; see examples/template.njk)',
    });
  }
  opened.renderer.dispose();
}

/** The table, key column and filter checked against the database (no row is read). */
export async function checkSource(
  pool: pg.Pool,
  source: { table: string; keyColumn: string; filter?: string },
): Promise<void> {
  const { checkSourceFilter, describeSource, FilterError, SourceError } = await import('../../inputs/source');
  try {
    await describeSource(pool, source.table, source.keyColumn);
    if (source.filter !== undefined) {
      await checkSourceFilter(pool, { table: source.table, filter: source.filter });
    }
  } catch (err) {
    if (err instanceof FilterError) {
      throw new BatchInputError(`bad --filter ${JSON.stringify(source.filter)}: ${err.message}`, {
        fix: 'a filter is a boolean expression over the table’s columns, e.g. "state = \'TX\' AND weight_oz < 100"',
      });
    }
    if (err instanceof SourceError) {
      throw new BatchInputError(`bad source: ${err.message}`, {
        fix: 'check --table and --key-column (import a file first with `shipbatch import FILE --table T`)',
      });
    }
    throw err;
  }
}

// ---------------------------------------------------------------- flag parsers (commander)

/** A whole number within bounds, for `--preview-rows`, `--concurrency`, `--row`, `--split`. */
export function intArg(flag: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d{1,9}$/.test(value.trim()))
      throw new InvalidArgumentError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
    const n = Number(value);
    if (n < min || n > max)
      throw new InvalidArgumentError(`${flag} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

/** `--rows 1,2,10`: row numbers, each a positive whole number. */
export function rowsListArg(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^[1-9]\d{0,8}$/.test(p))) {
    throw new InvalidArgumentError(
      `--rows must be row numbers separated by commas (e.g. 3,7,12), got ${JSON.stringify(value)}`,
    );
  }
  if (parts.length > 10_000) throw new InvalidArgumentError('--rows takes at most 10000 row numbers');
  return [...new Set(parts.map(Number))];
}

/** `--mode` / `mode ID MODE`: confirm or auto, any case. */
export function modeArg(value: string): 'confirm' | 'auto' {
  const r = ModeSchema.safeParse(value);
  if (!r.success)
    throw new InvalidArgumentError(`mode must be "confirm" or "auto", got ${JSON.stringify(value)}`);
  return r.data;
}

export function scopeArg(value: string): (typeof RESTART_SCOPES)[number] {
  if (!(RESTART_SCOPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      `--scope must be one of ${RESTART_SCOPES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as (typeof RESTART_SCOPES)[number];
}

export function choiceArg<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(
        `${flag} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`,
      );
    }
    return value as T;
  };
}
