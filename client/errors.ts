/**
 * Typed errors of the client library. Each carries the CLI's exit code: {@link BatchInputError},
 * {@link BatchNotFoundError}, {@link TrackingNotFoundError} and {@link BatchRefusedError} are the caller's
 * input (exit 2), the others are failures (exit 1).
 */

/** Base class: every error the client throws on purpose. `fix` says what to do about it, when known. */
export class ShipbatchError extends Error {
  readonly fix?: string;
  constructor(message: string, options?: { cause?: unknown; fix?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fix = options?.fix;
  }

  /** The CLI's exit code for this error: 1, a failure (2 for the caller's input, in the subclasses that are). */
  get exitCode(): 1 | 2 {
    return 1;
  }
}

/** Bad input, found before anything was sent: a batch input, a file, a template, a filter, a flag. */
export class BatchInputError extends ShipbatchError {
  override get exitCode(): 2 {
    return 2;
  }
}

/** No batch with this id in the namespace (or no ledger record of it). */
export class BatchNotFoundError extends ShipbatchError {
  constructor(
    readonly batchId: string,
    options?: { cause?: unknown },
  ) {
    super(`no batch ${JSON.stringify(batchId)}`, {
      ...options,
      fix: 'check the id with `shipbatch list` (ids look like batch-<name>)',
    });
  }

  override get exitCode(): 2 {
    return 2;
  }
}

/**
 * The batch exists but has no tracking workflow (issue 25): it is not closed yet, nothing shipped, tracking was
 * turned off (`trackFor: '0s'`), or it closed before tracking existed. `reason` says which, in words.
 */
export class TrackingNotFoundError extends ShipbatchError {
  constructor(
    readonly batchId: string,
    readonly reason: string,
    options?: { cause?: unknown; fix?: string },
  ) {
    super(`batch ${batchId} has no tracking: ${reason}`, options);
  }

  override get exitCode(): 2 {
    return 2;
  }
}

/** The workflow refused an operation (stale preview hash, wrong phase, mode locked…); `reason` is its own words. */
export class BatchRefusedError extends ShipbatchError {
  constructor(
    readonly batchId: string,
    readonly operation: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${batchId} refused ${operation}: ${reason}`, options);
  }

  override get exitCode(): 2 {
    return 2;
  }
}

/** Temporal or PostgreSQL could not be reached. */
export class ConnectionError extends ShipbatchError {}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
