import knex, { type Knex } from 'knex';
import { certificateRepository, type CertificateRepository } from './certificates.js';
import { connectionConfig, type Dialect, type StoreOptions } from './connection.js';
import { migrate } from './migrate.js';

export interface Store {
  readonly knex: Knex;
  readonly dialect: Dialect;
  readonly certificates: CertificateRepository;
  close(): Promise<void>;
}

/** Connects and brings the schema up to date before anything can query it. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const { dialect, config } = await connectionConfig(opts);
  const db = knex(config);
  try {
    await migrate(db, dialect);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    knex: db,
    dialect,
    certificates: certificateRepository(db),
    close: () => db.destroy(),
  };
}
