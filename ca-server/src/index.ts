// The CA as a library: what the CLI and the server are built from, for scripts and tests.
export { openStore, type CertificatePageQuery, type Store, type StoreOptions } from './store/index.js';
export { loadIssuingCa, type IssuingCa } from './pki/issuing-ca.js';
export { checkCsr, CsrError } from './pki/csr.js';
export { issueLeaf, LeafPolicyError } from './pki/leaf.js';
export { loadProfiles, BUNDLED_PROFILES_DIR, type Profile } from './pki/profiles.js';
export { loadServerConfig, type ServerConfig } from './config/server-config.js';
export { createAuditRecorder, type StoreAuditRecorder } from './audit/recorder.js';
export { atnaSpoolWriter } from './audit/atna-export.js';
export type { AuditEvent, AuditRecorder } from './audit/event.js';
export { createCrlPublisher, type CrlPublisher } from './revocation/index.js';
export { initRoot, installIntermediate, requestIntermediate, signIntermediateRequest } from './ca/ceremony.js';
export { caLayout, rootLayout } from './pki/layout.js';
