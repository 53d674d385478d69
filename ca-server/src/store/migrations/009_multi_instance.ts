import type { Knex } from 'knex';

// Several instances on one database: a finalization holds its order under a token until a deadline,
// so one that dies mid-way hands the order back; named leases pick the one instance that sweeps.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.text('finalize_token'); // set while one instance signs for this order
    t.bigInteger('processing_until'); // after this the finalization counts as dead
  });
  await knex.schema.createTable('leases', (t) => {
    t.text('name').notNullable().primary();
    t.text('token').notNullable();
    t.bigInteger('until').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('leases');
  await knex.schema.alterTable('orders', (t) => {
    t.dropColumn('processing_until');
    t.dropColumn('finalize_token');
  });
}
