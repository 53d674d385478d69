export { openStore, type Store } from './open.js';
export type { Dialect, StoreOptions } from './connection.js';
export { DuplicateSerialError } from './errors.js';
export { migrationSource } from './migrations/index.js';
export type {
  CertificateQuery,
  CertificateRecord,
  CertificateRepository,
  CertificateStatus,
  Identifier,
  NewCertificate,
  RenewSelection,
  RevokedCertificate,
} from './certificates.js';
export type { Account, AccountRepository, AccountStatus, NewAccount } from './accounts.js';
export type { EabCredential, EabRepository } from './eab.js';
export type { NonceRepository } from './nonces.js';
export type {
  Authorization,
  AuthorizationStatus,
  Challenge,
  ChallengeOutcome,
  ChallengeStatus,
  ChallengeType,
  ChallengeWork,
  NewOrder,
  Order,
  OrderRepository,
  OrderStatus,
  StoredProblem,
} from './orders.js';
export type { RateLimitRepository } from './rate-limits.js';
export type { CrlRepository, StoredCrl } from './crls.js';
export type { AgentReportRecord, AgentReportRepository } from './agent-reports.js';
export { DEVICE_TYPES, WEEKDAYS, DeviceNameTakenError } from './devices.js';
export type { Device, DeviceFields, DeviceRepository, DeviceType, MaintenanceWindow, Weekday } from './devices.js';
export { SecretBoxError } from './secret-box.js';
export type {
  AuditEntry,
  AuditHead,
  AuditQuery,
  AuditRepository,
  CheckpointPolicy,
  NewAuditEntry,
  StoredAuditEntry,
} from './audit.js';
export type { LeaseRepository } from './leases.js';
export {
  CERTIFICATE_SORTS,
  CERTIFICATE_STATES,
  type CertificateFilter,
  type CertificatePageQuery,
  type CertificateSearchRepository,
  type CertificateSort,
  type CertificateState,
  type CertificateSummary,
  type ExpiryBucket,
} from './certificate-search.js';
export type { SessionRecord, SessionRepository, SessionStage } from './sessions.js';
export { ROLES, UsernameTakenError } from './users.js';
export type { NewUser, Role, User, UserRepository } from './users.js';
