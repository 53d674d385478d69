import type { Knex } from 'knex';
import type { Dialect } from './connection.js';
import { migrationSource } from './migrations/index.js';

/** Any constant works, as long as every Wardcert instance sharing a database uses the same one. */
const PG_MIGRATION_LOCK_KEY = 0x5741_5244; // "WARD"

export async function migrate(db: Knex, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') {
    await db.migrate.latest({ migrationSource });
    return;
  }
  // Instances starting together against one database would race to create knex's bookkeeping
  // tables, and knex's own lock fails fast instead of waiting. A transaction-scoped advisory lock
  // makes the others wait, and pg releases it even if its holder dies mid-migration.
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [PG_MIGRATION_LOCK_KEY]);
    // Holding the advisory lock, nobody else is migrating: a set knex lock was left by a crash.
    await db.migrate.forceFreeMigrationsLock({ migrationSource });
    await db.migrate.latest({ migrationSource });
  });
}
