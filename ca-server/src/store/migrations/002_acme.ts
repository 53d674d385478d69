import type { Knex } from 'knex';

// ACME state lives here, never only in memory, so several instances can share one database.
// JSON columns are text (portable); times are epoch milliseconds.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('nonces', (t) => {
    t.text('value').notNullable().primary();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at'], 'nonces_expires_at_idx');
  });

  await knex.schema.createTable('eab_credentials', (t) => {
    t.text('kid').notNullable().primary();
    t.text('hmac_key').notNullable(); // base64url
    t.text('device_id');
    t.text('identifiers').notNullable(); // JSON array of names, .suffixes and CIDRs; [] = server policy only
    t.bigInteger('created_at').notNullable();
    t.text('account_id').unique('eab_credentials_account_id_key');
    t.bigInteger('used_at');
  });

  await knex.schema.createTable('accounts', (t) => {
    t.text('id').notNullable().primary();
    t.text('thumbprint').notNullable().unique('accounts_thumbprint_key');
    t.text('jwk').notNullable(); // JSON
    t.enu('status', ['valid', 'deactivated', 'revoked']).notNullable();
    t.text('contact').notNullable(); // JSON array
    t.text('eab_kid');
    t.text('device_id');
    t.text('allowed_identifiers'); // JSON copied from the EAB credential at binding time
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('orders', (t) => {
    t.text('id').notNullable().primary();
    t.text('account_id').notNullable();
    t.enu('status', ['pending', 'ready', 'processing', 'valid', 'invalid']).notNullable();
    t.text('identifiers').notNullable(); // JSON array of { type, value }
    t.text('profile').notNullable();
    t.bigInteger('not_before');
    t.bigInteger('not_after');
    t.bigInteger('expires_at').notNullable();
    t.text('error'); // JSON problem document
    t.text('certificate_serial');
    t.text('replaces');
    t.bigInteger('created_at').notNullable();
    t.index(['account_id', 'created_at'], 'orders_account_idx');
    t.index(['status', 'expires_at'], 'orders_status_expires_idx');
  });
  // RFC 9773 s5: only one order may replace a given certificate.
  await knex.raw('create unique index orders_replaces_key on orders (replaces) where replaces is not null and status <> \'invalid\'');

  await knex.schema.createTable('authorizations', (t) => {
    t.text('id').notNullable().primary();
    t.text('order_id').notNullable();
    t.text('account_id').notNullable();
    t.enu('identifier_type', ['dns', 'ip']).notNullable();
    t.text('identifier_value').notNullable();
    t.boolean('wildcard').notNullable();
    t.enu('status', ['pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked']).notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['order_id'], 'authorizations_order_idx');
  });

  await knex.schema.createTable('challenges', (t) => {
    t.text('id').notNullable().primary();
    t.text('authz_id').notNullable();
    t.enu('type', ['http-01', 'tls-alpn-01', 'dns-01']).notNullable();
    t.text('token').notNullable();
    t.enu('status', ['pending', 'processing', 'valid', 'invalid']).notNullable();
    t.bigInteger('validated_at');
    t.text('error'); // JSON problem document
    t.bigInteger('lease_until'); // a validator instance holds the challenge until then
    t.integer('attempts').notNullable().defaultTo(0);
    t.index(['authz_id'], 'challenges_authz_idx');
    t.index(['status', 'lease_until'], 'challenges_work_idx');
  });

  await knex.schema.createTable('rate_counters', (t) => {
    t.text('key').notNullable(); // e.g. "orders:<account id>"
    t.bigInteger('window_start').notNullable();
    t.integer('count').notNullable();
    t.primary(['key', 'window_start']);
  });

  await knex.schema.alterTable('certificates', (t) => {
    // renew-now: when set, ARI suggests a window ending at this time, i.e. "renew now".
    t.bigInteger('renew_by');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => t.dropColumn('renew_by'));
  for (const table of ['rate_counters', 'challenges', 'authorizations', 'orders', 'accounts', 'eab_credentials', 'nonces']) {
    await knex.schema.dropTable(table);
  }
}
