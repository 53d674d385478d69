import { exists, FileExistsError } from '@wardcert/common';

export { exists, FileExistsError, PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from '@wardcert/common';

/** Checks every target before anything is written, so a refused command leaves no half-made set of files. */
export async function assertWritable(paths: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  for (const path of paths) {
    if (await exists(path)) throw new FileExistsError(`refusing to overwrite ${path} (use --force to replace it)`);
  }
}
