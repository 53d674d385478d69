import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreOptions } from '../../src/store/index.js';
import { createPostgresSchema, runPostgresTests } from './postgres.js';

/** Where one test's store lives, and how to remove it afterwards. */
export interface StoreLocation {
  options: StoreOptions;
  dispose(): Promise<void>;
}

/**
 * SQLite in a fresh data directory, and PostgreSQL in a fresh schema (skipped without a test URL
 * outside CI). The PostgreSQL store also gets a data directory, as a server has: its data key is there.
 */
export function storeBackends(prefix: string) {
  const tempDir = () => mkdtemp(join(tmpdir(), `${prefix}-`));
  return [
    {
      name: 'sqlite',
      enabled: true,
      async location(): Promise<StoreLocation> {
        const dataDir = await tempDir();
        return { options: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
      },
    },
    {
      name: 'postgres',
      enabled: runPostgresTests,
      async location(): Promise<StoreLocation> {
        const dataDir = await tempDir();
        const { url, drop } = await createPostgresSchema();
        return {
          options: { url, dataDir },
          async dispose() {
            await drop();
            await rm(dataDir, { recursive: true, force: true });
          },
        };
      },
    },
  ] as const;
}
