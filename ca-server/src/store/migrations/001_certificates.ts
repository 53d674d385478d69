import type { Knex } from 'knex';

// Strings are `text` rather than varchar(n): SQLite ignores lengths and pg enforces them,
// so a length would make the two backends disagree. Times are epoch milliseconds in bigint.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('certificates', (t) => {
    // NOT NULL is explicit because SQLite allows NULL in a non-integer primary key.
    t.text('serial').notNullable().primary();
    t.text('profile').notNullable();
    t.text('subject').notNullable();
    t.text('identifiers').notNullable(); // JSON array of { type, value }
    t.bigInteger('not_before').notNullable();
    t.bigInteger('not_after').notNullable();
    t.binary('der').notNullable();
    t.text('issuer_key_id').notNullable();
    t.text('spki_sha256').notNullable();
    t.text('account_id');
    t.text('order_id');
    t.text('device_id');
    t.text('replaces');
    t.bigInteger('issued_at').notNullable();
    t.enu('status', ['valid', 'revoked']).notNullable().defaultTo('valid');
    t.bigInteger('revoked_at');
    t.integer('revocation_reason');
    t.check(
      `(status = 'valid' and revoked_at is null and revocation_reason is null)
        or (status = 'revoked' and revoked_at is not null and revocation_reason is not null)`,
      [],
      'certificates_revocation_check',
    );

    t.index(['not_after'], 'certificates_not_after_idx');
    t.index(['status'], 'certificates_status_idx');
    t.index(['spki_sha256'], 'certificates_spki_sha256_idx');
    t.index(['issuer_key_id', 'serial'], 'certificates_issuer_serial_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('certificates');
}
