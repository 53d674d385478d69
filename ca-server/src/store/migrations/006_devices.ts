import type { Knex } from 'knex';

// The device inventory: what each device is, which names it may hold and when it may renew.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('devices', (t) => {
    t.text('id').notNullable().primary();
    t.text('name').notNullable().unique('devices_name_key');
    t.enu('type', ['modality', 'gateway', 'pacs', 'interface-engine', 'other']).notNullable();
    t.text('department');
    t.text('location');
    t.text('ae_titles').notNullable(); // JSON array
    t.text('hl7_application');
    t.text('hl7_facility');
    t.text('allowed_identifiers').notNullable(); // JSON array of names, .suffixes and CIDRs
    t.text('maintenance_window'); // JSON { days, start, end, timeZone }, or null
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  // A device page lists its certificates; its removal finds its accounts and credentials.
  await knex.schema.alterTable('certificates', (t) => {
    t.index(['device_id', 'not_after'], 'certificates_device_idx');
    // The expiry gauges count valid certificates by notAfter range on every scrape.
    t.index(['status', 'not_after'], 'certificates_status_not_after_idx');
  });
  await knex.schema.alterTable('accounts', (t) => t.index(['device_id'], 'accounts_device_idx'));
  await knex.schema.alterTable('eab_credentials', (t) => t.index(['device_id'], 'eab_credentials_device_idx'));
  await knex.schema.alterTable('agent_reports', (t) => t.index(['device_id', 'received_at'], 'agent_reports_device_idx'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agent_reports', (t) => t.dropIndex(['device_id', 'received_at'], 'agent_reports_device_idx'));
  await knex.schema.alterTable('eab_credentials', (t) => t.dropIndex(['device_id'], 'eab_credentials_device_idx'));
  await knex.schema.alterTable('accounts', (t) => t.dropIndex(['device_id'], 'accounts_device_idx'));
  await knex.schema.alterTable('certificates', (t) => {
    t.dropIndex(['status', 'not_after'], 'certificates_status_not_after_idx');
    t.dropIndex(['device_id', 'not_after'], 'certificates_device_idx');
  });
  await knex.schema.dropTable('devices');
}
