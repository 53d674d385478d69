import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class FileExistsError extends Error {
  override readonly name = 'FileExistsError';
}

export const PRIVATE_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Checks every target before anything is written, so a refused command leaves no half-made set of files. */
export async function assertWritable(paths: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  for (const path of paths) {
    if (await exists(path)) throw new FileExistsError(`refusing to overwrite ${path} (use --force to replace it)`);
  }
}

/**
 * Writes through a temporary file that is synced before it takes the final name: a crash or a full
 * disk never leaves a truncated key or certificate. Without `replace`, linking fails if the name exists.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode: number; replace: boolean },
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', opts.mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temp, opts.mode); // umask must not loosen or tighten what we asked for
    if (opts.replace) {
      await rename(temp, path);
      return;
    }
    try {
      await link(temp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new FileExistsError(`refusing to overwrite ${path} (use --force to replace it)`);
      }
      throw err;
    }
    await unlink(temp);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
