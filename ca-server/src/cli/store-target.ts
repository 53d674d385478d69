import type { Command } from 'commander';
import { loadServerConfig, type ServerConfig } from '../config/server-config.js';
import { openStore, type Store, type StoreOptions } from '../store/index.js';

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

/** The store the options name, and the config file when one was given. */
export interface StoreTarget {
  store: StoreOptions;
  config?: ServerConfig;
}

export async function resolveStoreTarget(o: StoreTargetOptions): Promise<StoreTarget> {
  if (o.config) {
    const config = await loadServerConfig(o.config);
    const url = o.database ?? config.database;
    return { store: { dataDir: config.data, ...(url ? { url } : {}) }, config };
  }
  if (!o.data && !o.database) throw new Error('name the store with --data DIR, --config FILE or --database URL');
  return { store: { ...(o.data ? { dataDir: o.data } : {}), ...(o.database ? { url: o.database } : {}) } };
}

export async function openTargetStore(o: StoreTargetOptions): Promise<Store> {
  return openStore((await resolveStoreTarget(o)).store);
}

export async function withStore<T>(o: StoreTargetOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openTargetStore(o);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
