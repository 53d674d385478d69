import type { Knex } from 'knex';

// One row per issuing key: the current CRL, its number, and a lease so that of several instances
// exactly one signs the next CRL at a time.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('crls', (t) => {
    t.text('issuer_key_id').notNullable().primary();
    t.bigInteger('number').notNullable();
    t.binary('der');
    t.bigInteger('this_update');
    t.bigInteger('next_update');
    t.bigInteger('lease_until').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('crls');
}
