import type { Knex } from 'knex';

// Dashboard and admin API logins. The TOTP secret is sealed with the data key (secret-box.ts).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.text('id').notNullable().primary();
    t.text('username').notNullable().unique('users_username_key');
    t.enu('role', ['admin', 'operator', 'viewer', 'auditor']).notNullable();
    t.boolean('disabled').notNullable().defaultTo(false);
    t.text('password_hash').notNullable(); // PHC string, Argon2id
    t.text('totp_secret'); // sealed; null until enrolled
    t.bigInteger('totp_enrolled_at');
    t.bigInteger('totp_last_step'); // the newest accepted time step: a code is never accepted twice
    t.integer('failed_logins').notNullable().defaultTo(0);
    t.bigInteger('locked_until');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_login_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
