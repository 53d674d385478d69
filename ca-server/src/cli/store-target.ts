import type { Command } from 'commander';
import { loadServerConfig } from '../config/server-config.js';
import { openStore, type Store } from '../store/index.js';

export interface StoreTargetOptions {
  data?: string;
  config?: string;
  database?: string;
}

/** Commands that work beside a running server name its store by data directory, config file or URL. */
export function storeTargetOptions(cmd: Command): Command {
  return cmd
    .option('--data <DIR>', 'the CA data directory (SQLite store)')
    .option('--config <FILE>', 'the server config file (its data directory and database)')
    .option('--database <url>', 'PostgreSQL URL, overriding the default store');
}

export async function openTargetStore(o: StoreTargetOptions): Promise<Store> {
  if (o.config) {
    const config = await loadServerConfig(o.config);
    const url = o.database ?? config.database;
    return openStore({ dataDir: config.data, ...(url ? { url } : {}) });
  }
  if (!o.data && !o.database) throw new Error('name the store with --data DIR, --config FILE or --database URL');
  return openStore({ ...(o.data ? { dataDir: o.data } : {}), ...(o.database ? { url: o.database } : {}) });
}

export async function withStore<T>(o: StoreTargetOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openTargetStore(o);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
