import type { Knex } from 'knex';

// Dashboard sessions, and the indexes its certificate list needs to stay fast at 100,000 rows.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sessions', (t) => {
    // SHA-256 of the cookie's random id: a copy of this table does not let anyone sign in.
    t.text('id_hash').notNullable().primary();
    t.text('user_id').notNullable();
    // password: the password was right and a TOTP code is due; enrol: TOTP must be set up first.
    t.enu('stage', ['password', 'enrol', 'active']).notNullable();
    t.text('csrf_token').notNullable();
    t.text('pending_totp_secret'); // base32, only while enrolling
    t.text('remote_address');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.index(['user_id'], 'sessions_user_idx');
    t.index(['last_seen_at'], 'sessions_last_seen_idx');
  });

  await knex.schema.alterTable('certificates', (t) => {
    // 006_devices indexes (status, not_after) and (device_id, not_after); the other sorts and filters get one each.
    t.index(['issued_at'], 'certificates_issued_at_idx');
    t.index(['profile', 'not_after'], 'certificates_profile_not_after_idx');
    t.index(['subject'], 'certificates_subject_idx');
    t.index(['replaces'], 'certificates_replaces_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => {
    for (const name of ['issued_at', 'profile_not_after', 'subject', 'replaces']) t.dropIndex([], `certificates_${name}_idx`);
  });
  await knex.schema.dropTable('sessions');
}
