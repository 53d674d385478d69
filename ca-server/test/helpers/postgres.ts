import { randomUUID } from 'node:crypto';
import knex from 'knex';

const url = process.env.WARDCERT_TEST_PG_URL;

/** CI must exercise PostgreSQL, so there a missing URL fails the tests; elsewhere they skip. */
export const runPostgresTests = url !== undefined || process.env.CI !== undefined;

/**
 * A schema of its own for one test, reached through a URL whose search_path points at it,
 * so runs never see each other's tables. drop() removes it with everything in it.
 */
export async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  if (url === undefined) throw new Error('WARDCERT_TEST_PG_URL is not set; CI must run the PostgreSQL tests');
  const schema = `wardcert_test_${randomUUID().replaceAll('-', '')}`;
  const admin = knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('create schema ??', [schema]);
  } catch (err) {
    await admin.destroy();
    throw err;
  }
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: scoped.toString(),
    async drop() {
      await admin.raw('drop schema ?? cascade', [schema]);
      await admin.destroy();
    },
  };
}
