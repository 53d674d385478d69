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

/** One file of a set written together by writeFilesAtomic. */
export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
  mode: number;
}

/**
 * Writes through a temporary file that is synced before it takes the final name, then syncs the
 * folder: a crash or a full disk never leaves a truncated key or certificate, and the old file
 * stays whole until the new one is complete. Without `replace`, linking fails if the name exists.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode: number; replace: boolean }): Promise<void> {
  if (opts.replace) return writeFilesAtomic([{ path, data, mode: opts.mode }]);
  const [temp] = await stageAll([{ path, data, mode: opts.mode }]);
  try {
    await link(temp!, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(`refusing to overwrite ${path} (use --force to replace it)`);
    throw err;
  } finally {
    await unlink(temp!).catch(() => undefined);
  }
  await syncDir(dirname(path));
}

/**
 * Replaces a set of files that belong together (a key and its certificate, say) all or none: every
 * new file is written and synced under a temporary name first, and only when all of them are
 * complete do they take their names, in the order given. A full disk fails the first step and
 * leaves every old file as it was, with no temporary file behind; renames need no space.
 */
export async function writeFilesAtomic(files: FileToWrite[]): Promise<void> {
  const temps = await stageAll(files);
  try {
    for (const [i, f] of files.entries()) await rename(temps[i]!, f.path);
  } catch (err) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    throw err;
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) await syncDir(dir);
}

/** Each file complete and synced under a temporary name beside its final one; on any failure, none left. */
async function stageAll(files: FileToWrite[]): Promise<string[]> {
  const temps: string[] = [];
  try {
    for (const f of files) {
      const dir = dirname(f.path);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const temp = join(dir, `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
      const handle = await open(temp, 'wx', f.mode);
      temps.push(temp);
      try {
        await handle.writeFile(f.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(temp, f.mode); // umask must not loosen or tighten what we asked for
    }
    return temps;
  } catch (err) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
