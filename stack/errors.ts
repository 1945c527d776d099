/**
 * Start-up failures as one line a newcomer can act on: what went wrong, then how to fix it. The stack
 * throws {@link StartupError} for every failure it can name; {@link describeStartupError} turns any
 * error (including unexpected ones) into that one line, never a stack trace.
 */

/** A start-up step failed for a reason we can name; `message` is `<problem>. Fix: <fix>` on one line. */
export class StartupError extends Error {
  readonly problem: string;
  readonly fix: string;

  constructor(problem: string, fix: string, options?: { cause?: unknown }) {
    super(`${oneLine(problem)}. Fix: ${oneLine(fix)}`, options);
    this.name = 'StartupError';
    this.problem = oneLine(problem);
    this.fix = oneLine(fix);
  }
}

/** Collapse whitespace (a child's multi-line output) and cap the length so a message stays one line. */
export function oneLine(text: string, max = 400): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

interface ErrnoLike {
  code?: unknown;
  path?: unknown;
  syscall?: unknown;
  message?: unknown;
}

const FS_FIXES: Record<string, (target: string) => string> = {
  EACCES: (t) =>
    `no permission to use ${t}. Fix: make it readable and writable by this user, or set SHIPBATCH_DATA_DIR to a directory you own`,
  EPERM: (t) =>
    `not permitted to change ${t}. Fix: make this user its owner, or set SHIPBATCH_DATA_DIR to a directory you own`,
  EROFS: (t) => `${t} is on a read-only file system. Fix: set SHIPBATCH_DATA_DIR to a writable directory`,
  ENOTDIR: (t) =>
    `${t} is not a directory (a file is in the way). Fix: remove that file, or set SHIPBATCH_DATA_DIR elsewhere`,
  EEXIST: (t) => `${t} exists and is not a directory. Fix: remove it, or set SHIPBATCH_DATA_DIR elsewhere`,
  ENOSPC: (t) => `no space left on the device of ${t}. Fix: free some disk space`,
  EADDRINUSE: () =>
    'a port is already in use. Fix: stop what listens there, or choose other ports (SHIPBATCH_PG_PORT, SHIPBATCH_TEMPORAL_PORT, SHIPBATCH_TEMPORAL_UI_PORT)',
};

/**
 * The one line to print for a start-up failure: a {@link StartupError}'s message as is; a file-system
 * or socket error (EACCES, ENOTDIR, EADDRINUSE…) found anywhere in the `cause` chain as cause + fix;
 * anything else as its first line of message. Never a stack trace.
 */
export function describeStartupError(err: unknown): string {
  const seen = new Set<unknown>();
  for (
    let e: unknown = err;
    e && typeof e === 'object' && !seen.has(e);
    e = (e as { cause?: unknown }).cause
  ) {
    seen.add(e);
    if (e instanceof StartupError) return e.message;
    const { code, path, syscall } = e as ErrnoLike;
    if (typeof code === 'string' && FS_FIXES[code]) {
      const target = typeof path === 'string' ? path : typeof syscall === 'string' ? syscall : 'a file';
      return oneLine(FS_FIXES[code](target));
    }
  }
  if (err instanceof Error) return oneLine(err.message.split('\n')[0] || err.name);
  return oneLine(String(err));
}

/** An error's own first line (no fix appended): for quoting a lower-level error inside a StartupError. */
export function briefly(err: unknown): string {
  if (err instanceof Error) return oneLine(err.message.split('\n')[0] || err.name, 200);
  return oneLine(String(err), 200);
}
