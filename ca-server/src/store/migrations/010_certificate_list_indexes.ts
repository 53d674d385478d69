import type { Knex } from 'knex';

/**
 * The dashboard's list sorts by a key and then by serial, so that pages are stable: each sort
 * index carries its tie-breakers, or SQLite sorts every row sharing a key (a storm renews thousands
 * of certificates with one notAfter). Each replaces the narrower index it makes redundant, so
 * issuance maintains no more indexes than before, plus one: a narrow covering index of the searched
 * columns, which a search scans instead of the table and its DER.
 */
const REPLACED = [
  { old: { columns: ['not_after'], name: 'certificates_not_after_idx' }, now: { columns: ['not_after', 'serial'], name: 'certificates_not_after_serial_idx' } },
  { old: { columns: ['status', 'not_after'], name: 'certificates_status_not_after_idx' }, now: { columns: ['status', 'not_after', 'serial'], name: 'certificates_status_not_after_serial_idx' } },
  { old: { columns: ['issued_at'], name: 'certificates_issued_at_idx' }, now: { columns: ['issued_at', 'serial'], name: 'certificates_issued_at_serial_idx' } },
  { old: { columns: ['subject'], name: 'certificates_subject_idx' }, now: { columns: ['subject', 'not_after', 'serial'], name: 'certificates_subject_not_after_idx' } },
  { old: { columns: ['device_id', 'not_after'], name: 'certificates_device_idx' }, now: { columns: ['device_id', 'not_after', 'serial'], name: 'certificates_device_not_after_idx' } },
  { old: { columns: ['profile', 'not_after'], name: 'certificates_profile_not_after_idx' }, now: { columns: ['profile', 'not_after', 'serial'], name: 'certificates_profile_not_after_serial_idx' } },
];
const SEARCH = { columns: ['identifiers', 'device_id', 'serial'], name: 'certificates_search_idx' };

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => {
    for (const { old, now } of REPLACED) {
      t.dropIndex(old.columns, old.name);
      t.index(now.columns, now.name);
    }
    t.index(SEARCH.columns, SEARCH.name);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('certificates', (t) => {
    t.dropIndex(SEARCH.columns, SEARCH.name);
    for (const { old, now } of REPLACED) {
      t.dropIndex(now.columns, now.name);
      t.index(old.columns, old.name);
    }
  });
}
