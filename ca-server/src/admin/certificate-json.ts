import { REVOCATION_REASONS } from '../ca/revoke.js';
import type { CertificateState, CertificateSummary } from '../store/index.js';

const DAY_MS = 86_400_000;

/** The dashboard's state of one certificate at `now` (the same cut the list's state filter makes). */
export function stateOf(c: CertificateSummary, now: Date): CertificateState {
  if (c.status === 'revoked') return 'revoked';
  const left = c.notAfter.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  if (left <= DAY_MS) return 'expiring-24h';
  if (left <= 7 * DAY_MS) return 'expiring-7d';
  return 'valid';
}

/** A certificate as the API shows it. */
export function certificateJson(c: CertificateSummary, now: Date) {
  return {
    serial: c.serial,
    state: stateOf(c, now),
    status: c.status,
    profile: c.profile,
    subject: c.subject,
    identifiers: c.identifiers,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    issuedAt: c.issuedAt.toISOString(),
    deviceId: c.deviceId,
    accountId: c.accountId,
    revokedAt: c.revokedAt?.toISOString() ?? null,
    revocationReason: c.revocationReason === null ? null : (REVOCATION_REASONS[c.revocationReason] ?? String(c.revocationReason)),
    renewBy: c.renewBy?.toISOString() ?? null,
    replaces: c.replaces,
  };
}
