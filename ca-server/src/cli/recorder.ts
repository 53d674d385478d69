import { hostname, userInfo } from 'node:os';
import type { AuditEvent, AuditRecorder } from '../audit/event.js';
import type { Store } from '../store/index.js';

/** The operator at this terminal, as the audit trail names them. */
export function cliActor(): { actor: AuditEvent['actor']; source: string } {
  return { actor: { kind: 'cli', id: userInfo().username }, source: hostname() };
}

/**
 * The recorder a CLI command hands its service: the one place where the CLI's events reach the
 * trail. Until the hash-chained trail lands this records nothing (the audit work wires it here).
 */
export function cliRecorder(_store: Store): AuditRecorder {
  return { record: async () => {} };
}
