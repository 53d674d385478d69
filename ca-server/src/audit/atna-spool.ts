import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * ATNA messages waiting for the Audit Record Repository, one file per appended batch, in the data
 * directory. A file is complete before it appears (written, synced, then renamed), and its name is
 * the batch's first sequence number, so a plain sorted listing is the order to send in (a random
 * tail keeps a file of another database's chain, still unsent, from ever being overwritten).
 */
export interface AtnaSpool {
  readonly dir: string;
  put(firstSeq: number, frames: Buffer): Promise<void>;
  /** File names, oldest first. */
  pending(): Promise<string[]>;
  /** The file's frames, or undefined when it is gone. */
  read(name: string): Promise<Buffer | undefined>;
  remove(name: string): Promise<void>;
}

const SUFFIX = '.syslog';

export function atnaSpool(dataDir: string): AtnaSpool {
  const dir = join(dataDir, 'audit-spool');
  let ready: Promise<void> | undefined;
  // The messages name accounts, devices and addresses: private to the server's user.
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(() => chmod(dir, 0o700)));
  return {
    dir,
    async put(firstSeq, frames) {
      await ensureDir();
      const name = `${String(firstSeq).padStart(16, '0')}-${randomBytes(6).toString('hex')}${SUFFIX}`;
      const tmp = join(dir, `.${name}.tmp`);
      const file = await open(tmp, 'w', 0o600);
      try {
        await file.writeFile(frames);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, join(dir, name));
    },
    async pending() {
      await ensureDir();
      return (await readdir(dir)).filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.')).sort();
    },
    async read(name) {
      try {
        return await readFile(join(dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async remove(name) {
      await unlink(join(dir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}
