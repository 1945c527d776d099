/**
 * Where the CLI's commands write: stdout and stderr (or a test's capture), with backpressure for long
 * listings, a reader that goes away (`| head`) told apart from a write that failed, and the line and JSON
 * helpers every command prints with.
 */

/** Where a command writes (tests pass their own). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stdout is a terminal: progress bars and prompts. */
  tty: boolean;
  /**
   * Write and wait while the reader is behind (backpressure), so a long listing never piles up in memory;
   * rejects with {@link OutputClosedError} once the reader has gone (`| head`). Without it, `out`.
   */
  write?: (text: string) => Promise<void>;
}

/**
 * stdout can take no more: its reader went away (EPIPE: `shipbatch rows ID --json | head`), or writing
 * failed otherwise (`failure`, e.g. ENOSPC). The CLI ends quietly on the first, with exit 1 on the second.
 */
export class OutputClosedError extends Error {
  constructor(readonly failure?: Error) {
    super(failure ? `cannot write the output: ${failure.message}` : 'the output was closed by its reader');
    this.name = 'OutputClosedError';
  }
}

/** What became of stdout (set by {@link guardStdio}'s listeners). */
const stdout: { closed: boolean; failure?: Error } = { closed: false };

const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/**
 * Install the CLI process's stdout/stderr error listeners (only the `shipbatch` bin calls it, never a test
 * importing the CLI): without them a reader that goes away (EPIPE) is an uncaught 'error' event, a crash
 * with a stack trace. Afterwards {@link stdoutFailure} tells a write error apart from a reader gone.
 */
export function guardStdio(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!stdout.closed && !READER_GONE.has(err.code ?? '')) stdout.failure = err;
    stdout.closed = true;
  });
  // Nowhere left to report a stderr error: drop it rather than crash.
  process.stderr.on('error', () => undefined);
}

/** A stdout write error other than the reader going away (reported with exit 1), if any. */
export function stdoutFailure(): Error | undefined {
  return stdout.failure;
}

/** Wait until `stream` can take more (drained), or is closed or failed. */
function writable(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

export const stdio: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  tty: Boolean(process.stdout.isTTY),
  write: async (t) => {
    const out = process.stdout;
    if (stdout.closed || out.destroyed) throw new OutputClosedError(stdout.failure);
    if (!out.write(t)) await writable(out);
    if (stdout.closed || out.destroyed) throw new OutputClosedError(stdout.failure);
  },
};

/**
 * Text in chunks of about `size` characters to `io.write` (a row at a time would be a system call per row),
 * waiting for the reader between chunks: at most one chunk and the stream's own buffer are held.
 */
export class ChunkedWriter {
  private buf = '';
  private readonly write: (text: string) => Promise<void>;

  constructor(
    io: Io,
    private readonly size = 64 * 1024,
  ) {
    this.write = io.write ?? ((t) => Promise.resolve(io.out(t)));
  }

  async put(text: string): Promise<void> {
    this.buf += text;
    if (this.buf.length >= this.size) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf === '') return;
    const chunk = this.buf;
    this.buf = '';
    await this.write(chunk);
  }
}

/** One line to the command's output. */
export const say = (io: Io, line = '') => io.out(`${line}\n`);
/** A value as indented JSON (the `--json` output). */
export const printJson = (io: Io, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);
