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
  RevokedCertificate,
} from './certificates.js';
