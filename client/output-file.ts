/**
 * Writing the files shipbatch makes for the user (labels, results CSV) and its own state files, so that
 * nothing already at the final path is overwritten unless asked (`force`), and a symbolic link there is
 * never followed, with or without `force`.
 *
 * Each file is first written to a new temporary file beside it (created exclusively: nothing there is
 * followed), then put in place: when it must be new, by a hard link, which fails if anything at all has
 * that name (a file, a link, a dangling link); when it may replace, by a rename, which replaces a link
 * itself, never what it points to. So a refused or failed write leaves the final paths as they were.
 */
import { randomBytes } from 'node:crypto';
import { constants, type WriteStream } from 'node:fs';
import { copyFile, link, lstat, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BatchInputError } from './errors';

export interface OutputOptions {
  /** Replace what is at the final path (a link there is replaced, not followed). Default: refuse it. */
  force?: boolean;
  /** Mode of a new file (before the umask); default 0o666, as any file the user creates. */
  mode?: number;
  /** The fix named when the path is taken, e.g. "choose another --out, or add --force to replace it". */
  fix?: string;
}

const errnoOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

function taken(file: string, opts: OutputOptions, link = false): BatchInputError {
  return new BatchInputError(
    `${file} already exists${link ? ' (a symbolic link)' : ''}; nothing was written`,
    {
      fix: opts.fix ?? 'choose another file name, or remove that file first',
    },
  );
}

/**
 * Refuse, before any work is done, an output path that is taken (unless `force`) or is a directory:
 * a {@link BatchInputError} naming it. The write itself checks again ({@link OutputFiles.commit}).
 */
export async function checkOutputPath(file: string, opts: OutputOptions = {}): Promise<void> {
  const st = await lstat(file).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (st.isDirectory())
    throw new BatchInputError(`${file} is a directory; nothing was written`, {
      fix: 'name a file, not a directory',
    });
  if (!opts.force) throw taken(file, opts, st.isSymbolicLink());
}

/**
 * Files written beside their final paths, put in place together by {@link commit}; {@link discard}
 * removes whatever was not (call it in a `finally`).
 */
export class OutputFiles {
  private pending: { tmp: string; file: string }[] = [];

  constructor(private readonly opts: OutputOptions = {}) {}

  /** A new temporary file beside `file`, opened exclusively; its path is remembered for commit/discard. */
  private async create(file: string) {
    const tmp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    const handle = await open(tmp, 'wx', this.opts.mode ?? 0o666);
    this.pending.push({ tmp, file });
    return handle;
  }

  /** Write `data` as the future content of `file`. */
  async write(file: string, data: string | Uint8Array): Promise<void> {
    const handle = await this.create(file);
    try {
      await writeFile(handle, data);
    } finally {
      await handle.close();
    }
  }

  /** A stream for the future content of `file`; end it (and wait for 'close') before {@link commit}. */
  async stream(file: string): Promise<WriteStream> {
    return (await this.create(file)).createWriteStream();
  }

  /**
   * Put every file in place, in order. Without `force`, a final path that is taken (whatever it is) is a
   * {@link BatchInputError} and the files already placed by this call are removed again.
   */
  async commit(): Promise<string[]> {
    const placed: string[] = [];
    try {
      for (const { tmp, file } of this.pending) {
        if (this.opts.force) {
          await rename(tmp, file).catch((err: unknown) => {
            if (errnoOf(err) === 'EISDIR' || errnoOf(err) === 'ENOTEMPTY' || errnoOf(err) === 'EEXIST')
              throw new BatchInputError(`${file} is a directory; nothing was written there`, {
                fix: 'name a file, not a directory',
              });
            throw err;
          });
        } else {
          await placeNew(tmp, file, this.opts);
          placed.push(file);
        }
      }
    } catch (err) {
      for (const file of placed) await rm(file, { force: true });
      throw err;
    }
    const files = this.pending.map((p) => p.file);
    this.pending = [];
    return files;
  }

  /** Remove the temporary files not put in place. */
  async discard(): Promise<void> {
    for (const { tmp } of this.pending) await rm(tmp, { force: true });
    this.pending = [];
  }
}

/** Link `tmp` to `file` only if nothing has that name (copy exclusively where hard links are not supported). */
async function placeNew(tmp: string, file: string, opts: OutputOptions): Promise<void> {
  try {
    await link(tmp, file);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EEXIST') {
      const st = await lstat(file).catch(() => undefined);
      throw taken(file, opts, st?.isSymbolicLink());
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    // A file system without hard links (FAT, some network shares): copy, creating `file` exclusively.
    await copyFile(tmp, file, constants.COPYFILE_EXCL).catch((e: unknown) => {
      if (errnoOf(e) === 'EEXIST') throw taken(file, opts);
      throw e;
    });
  }
  await rm(tmp, { force: true });
}

/** Write one file in place of whatever is at `file` (a link there is replaced, not followed). */
export async function writeFileReplacing(
  file: string,
  data: string | Uint8Array,
  opts: Omit<OutputOptions, 'force'> = {},
): Promise<void> {
  const out = new OutputFiles({ ...opts, force: true });
  try {
    await out.write(file, data);
    await out.commit();
  } finally {
    await out.discard();
  }
}
