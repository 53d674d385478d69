import { hostname, userInfo } from 'node:os';
import type { AuditActor } from './event.js';

/** The server itself, for what happens without a request (validator, CRL publisher, start and stop). */
export function systemActor(): AuditActor {
  return { kind: 'system', id: 'wardcert-ca', name: hostname() };
}

/** The operator who ran a CLI command, by login name on this machine. */
export function operatorActor(): AuditActor {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    // A uid without a passwd entry (containers): the uid still says who.
    name = `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return { kind: 'cli', id: name, name };
}

/** "From where" of events that have no peer address: this machine. */
export function localSource(): string {
  return hostname();
}
