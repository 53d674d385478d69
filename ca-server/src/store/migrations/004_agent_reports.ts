import type { Knex } from 'knex';

// The latest status each agent reported, for the dashboard: one row per account, replaced on each report.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agent_reports', (t) => {
    t.text('account_id').notNullable().primary();
    t.text('device_id');
    t.text('report').notNullable(); // JSON, validated before it is stored
    t.text('remote_address');
    t.bigInteger('received_at').notNullable();
    t.index(['received_at'], 'agent_reports_received_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('agent_reports');
}
