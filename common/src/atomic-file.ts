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

/**
 * Writes through a temporary file that is synced before it takes the final name, then syncs the
 * folder: a crash or a full disk never leaves a truncated key or certificate, and the old file
 * stays whole until the new one is complete. Without `replace`, linking fails if the name exists.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode: number; replace: boolean }): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', opts.mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, opts.mode); // umask must not loosen or tighten what we asked for
    if (opts.replace) {
      await rename(temp, path);
    } else {
      try {
        await link(temp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(`refusing to overwrite ${path} (use --force to replace it)`);
        throw err;
      }
      await unlink(temp);
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
