import type { Logger } from 'pino';
import type { AuditRecorder } from '../audit/event.js';
import type { RevocationContext } from '../ca/revoke.js';
import type { SessionDeps } from './session.js';

/** Everything the admin app needs; like the ACME side, nothing here keeps state another instance would miss. */
export interface AdminContext extends SessionDeps, RevocationContext {
  logger: Logger;
  audit: AuditRecorder;
  /** Names of the certificate profiles, for the list's filter. */
  profiles: string[];
}
