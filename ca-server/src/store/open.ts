import knex, { type Knex } from 'knex';
import { accountRepository, type AccountRepository } from './accounts.js';
import { agentReportRepository, type AgentReportRepository } from './agent-reports.js';
import { auditRepository, type AuditRepository } from './audit.js';
import { certificateRepository, type CertificateRepository } from './certificates.js';
import { certificateSearchRepository, type CertificateSearchRepository } from './certificate-search.js';
import { crlRepository, type CrlRepository } from './crls.js';
import { deviceRepository, type DeviceRepository } from './devices.js';
import { eabRepository, type EabRepository } from './eab.js';
import { leaseRepository, type LeaseRepository } from './leases.js';
import { nonceRepository, type NonceRepository } from './nonces.js';
import { orderRepository, type OrderRepository } from './orders.js';
import { rateLimitRepository, type RateLimitRepository } from './rate-limits.js';
import { sessionRepository, type SessionRepository } from './sessions.js';
import { userRepository, type UserRepository } from './users.js';
import { connectionConfig, type Dialect, type StoreOptions } from './connection.js';
import { migrate } from './migrate.js';
import { dataDirSecretBox, missingSecretBox, type SecretBox } from './secret-box.js';

export interface Store {
  readonly knex: Knex;
  readonly dialect: Dialect;
  readonly certificates: CertificateRepository;
  readonly nonces: NonceRepository;
  readonly accounts: AccountRepository;
  readonly eab: EabRepository;
  readonly orders: OrderRepository;
  readonly rateLimits: RateLimitRepository;
  readonly crls: CrlRepository;
  readonly agentReports: AgentReportRepository;
  readonly devices: DeviceRepository;
  readonly audit: AuditRepository;
  readonly leases: LeaseRepository;
  /** The dashboard's filtered, sorted, paged views of the certificates. */
  readonly certificateSearch: CertificateSearchRepository;
  readonly sessions: SessionRepository;
  readonly users: UserRepository;
  close(): Promise<void>;
}

/**
 * Connects and brings the schema up to date before anything can query it. With a data directory
 * (also beside a PostgreSQL URL) the store seals its secrets with that directory's data key, and
 * seals any an older version left in plaintext.
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const { dialect, config } = await connectionConfig(opts);
  const db = knex(config);
  const secrets: SecretBox = opts.dataDir === undefined ? missingSecretBox() : dataDirSecretBox(opts.dataDir);
  try {
    await migrate(db, dialect);
    if (opts.dataDir !== undefined) await eabRepository(db, secrets).sealPlaintextKeys();
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    knex: db,
    dialect,
    certificates: certificateRepository(db),
    nonces: nonceRepository(db),
    accounts: accountRepository(db),
    eab: eabRepository(db, secrets),
    orders: orderRepository(db),
    rateLimits: rateLimitRepository(db),
    crls: crlRepository(db),
    agentReports: agentReportRepository(db),
    devices: deviceRepository(db),
    audit: auditRepository(db, dialect),
    leases: leaseRepository(db),
    certificateSearch: certificateSearchRepository(db),
    sessions: sessionRepository(db),
    users: userRepository(db, secrets),
    close: () => db.destroy(),
  };
}
