import type { Knex } from 'knex';
import * as certificates from './001_certificates.js';
import * as acme from './002_acme.js';
import * as crls from './003_crls.js';
import * as agentReports from './004_agent_reports.js';
import * as audit from './005_audit.js';
import * as devices from './006_devices.js';
import * as users from './007_users.js';
import * as sessions from './008_sessions.js';
import * as multiInstance from './009_multi_instance.js';
import * as certificateListIndexes from './010_certificate_list_indexes.js';

export interface NamedMigration extends Knex.Migration {
  name: string;
}

/**
 * Applied in this order. To change the schema, append a module; never rename, reorder or edit
 * one that has shipped, because its name is recorded in each database's knex_migrations table.
 */
const migrations: readonly NamedMigration[] = [
  { name: '001_certificates', ...certificates },
  { name: '002_acme', ...acme },
  { name: '003_crls', ...crls },
  { name: '004_agent_reports', ...agentReports },
  { name: '005_audit', ...audit },
  { name: '006_devices', ...devices },
  { name: '007_users', ...users },
  { name: '008_sessions', ...sessions },
  { name: '009_multi_instance', ...multiInstance },
  { name: '010_certificate_list_indexes', ...certificateListIndexes },
];

/** Migrations compiled into the code, so dist/ runs them without scanning a directory. */
export const migrationSource: Knex.MigrationSource<NamedMigration> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};
