import type { Logger } from 'pino';
import type { Store } from '../store/index.js';

/**
 * RFC 5280 s5.3.1 reasons that a certificate's holder or an operator may give. The CA-only ones
 * (cACompromise, certificateHold, removeFromCRL, aACompromise) are never accepted.
 */
export const REVOCATION_REASONS: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  9: 'privilegeWithdrawn',
};

export const isRevocationReason = (reason: number): boolean => Object.hasOwn(REVOCATION_REASONS, reason);

export interface RevocationContext {
  store: Store;
  logger: Logger;
  now: () => Date;
  /** Re-signs the CRL, so it (and OCSP, which reads the store) says so at once. */
  onRevoked: (serial: string) => Promise<void>;
}

/**
 * The one way a certificate gets revoked, for ACME revokeCert and the dashboard alike. False when
 * it was already revoked (or unknown); the first revocation's reason and time stand.
 */
export async function revokeAndPublish(ctx: RevocationContext, serial: string, reason: number, by: string): Promise<boolean> {
  if (!(await ctx.store.certificates.markRevoked(serial, reason, ctx.now()))) return false;
  ctx.logger.info({ event: 'certificate.revoked', serial, reason, by }, 'certificate revoked');
  await ctx.onRevoked(serial);
  return true;
}
