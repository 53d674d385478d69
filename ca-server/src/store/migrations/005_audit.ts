import type { Knex } from 'knex';
import { GENESIS_HASH } from '../../audit/chain-hash.js';

// The audit trail: append-only entries, each carrying the SHA-256 of the one before, and a single
// head row that every append locks, so appends from several instances form one chain.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_entries', (t) => {
    t.bigInteger('seq').notNullable().primary();
    t.bigInteger('at').notNullable();
    t.text('type').notNullable();
    t.text('outcome').notNullable();
    t.text('actor_kind').notNullable();
    t.text('actor_id').notNullable();
    t.text('actor_name');
    t.text('source');
    t.text('subject_kind');
    t.text('subject_id');
    t.text('details'); // canonical JSON, exactly the text the hash covers
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable();
    t.index(['at'], 'audit_entries_at_idx');
    t.index(['type', 'seq'], 'audit_entries_type_idx');
    t.index(['actor_id', 'seq'], 'audit_entries_actor_idx');
    t.index(['subject_id', 'seq'], 'audit_entries_subject_idx');
  });
  await knex.schema.createTable('audit_head', (t) => {
    t.integer('id').notNullable().primary();
    t.bigInteger('seq').notNullable();
    t.text('hash').notNullable();
    /** Sequence number of the newest checkpoint entry (0 before the first). */
    t.bigInteger('checkpoint_seq').notNullable();
  });
  await knex('audit_head').insert({ id: 1, seq: 0, hash: GENESIS_HASH, checkpoint_seq: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_head');
  await knex.schema.dropTable('audit_entries');
}
