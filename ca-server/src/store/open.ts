import knex, { type Knex } from 'knex';
import { accountRepository, type AccountRepository } from './accounts.js';
import { agentReportRepository, type AgentReportRepository } from './agent-reports.js';
import { certificateRepository, type CertificateRepository } from './certificates.js';
import { certificateSearchRepository, type CertificateSearchRepository } from './certificate-search.js';
import { crlRepository, type CrlRepository } from './crls.js';
import { eabRepository, type EabRepository } from './eab.js';
import { nonceRepository, type NonceRepository } from './nonces.js';
import { orderRepository, type OrderRepository } from './orders.js';
import { rateLimitRepository, type RateLimitRepository } from './rate-limits.js';
import { sessionRepository, type SessionRepository } from './sessions.js';
import { connectionConfig, type Dialect, type StoreOptions } from './connection.js';
import { migrate } from './migrate.js';

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
  /** The dashboard's filtered, sorted, paged views of the certificates. */
  readonly certificateSearch: CertificateSearchRepository;
  readonly sessions: SessionRepository;
  close(): Promise<void>;
}

/** Connects and brings the schema up to date before anything can query it. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const { dialect, config } = await connectionConfig(opts);
  const db = knex(config);
  try {
    await migrate(db, dialect);
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
    eab: eabRepository(db),
    orders: orderRepository(db),
    rateLimits: rateLimitRepository(db),
    crls: crlRepository(db),
    agentReports: agentReportRepository(db),
    certificateSearch: certificateSearchRepository(db),
    sessions: sessionRepository(db),
    close: () => db.destroy(),
  };
}
