import type { Logger } from 'pino';
import type { AuditRecorder } from '../audit/event.js';
import type { IssuingCa } from '../pki/issuing-ca.js';
import type { Profile } from '../pki/profiles.js';
import type { Store } from '../store/index.js';
import type { Admission } from './admission.js';
import type { AcmeUrls } from './urls.js';

export interface AcmePolicy {
  /** RFC 8555 s7.3.4: every new account must present an EAB credential. */
  requireEab: boolean;
  /** DNS suffixes and CIDR blocks the server issues for at all. */
  allowDns: string[];
  allowIp: string[];
  defaultProfile: string;
  orderLifetimeMs: number;
  /** Orders one account may create per hour. */
  ordersPerHour: number;
  /** Lifetime of a nonce. */
  nonceTtlMs: number;
}

/** Everything the ACME handlers need; nothing in it holds state that another instance would miss. */
export interface AcmeContext {
  store: Store;
  ca: IssuingCa;
  profiles: Map<string, Profile>;
  policy: AcmePolicy;
  urls: AcmeUrls;
  /** Base of the plain-HTTP side, for CRL/OCSP/AIA URLs in certificates. */
  httpBase: string | undefined;
  logger: Logger;
  /** The audit trail; a failed write fails the request (the client sees serverInternal and retries). */
  audit: AuditRecorder;
  now: () => Date;
  /** Wakes the local validator after a challenge was started, instead of waiting for its next poll. */
  pokeValidator: () => void;
  /** Called after a revocation so the CRL says so at once. */
  onRevoked: (serial: string) => Promise<void>;
  /** Counts issuance and revocation by profile for /metrics. */
  counters?: { issued(profile: string): void; revoked(profile: string): void };
  /** Load shedding for new orders, challenge starts and finalizations; none: never shed. */
  admission?: Admission;
  /** Request metrics hook: route, method, status, seconds. */
  observe?: (path: string, method: string, status: number, seconds: number) => void;
}
