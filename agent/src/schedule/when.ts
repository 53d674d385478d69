/** When to renew: inside the CA's ARI window when it gives one, else at two thirds of the lifetime. */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface CertificateTimes {
  notBefore: Date;
  notAfter: Date;
}

export interface RenewalWindow {
  start: Date;
  end: Date;
}

/**
 * A random moment inside the window (RFC 9773 s4.2), so devices with the same window do not arrive
 * together; a window already past means now. Without a window, two thirds of the lifetime.
 */
export function renewalTime(cert: CertificateTimes, window: RenewalWindow | undefined, now: Date, random: () => number = Math.random): Date {
  if (window && window.end > window.start) {
    const at = window.start.getTime() + random() * (window.end.getTime() - window.start.getTime());
    return new Date(Math.max(at, now.getTime()));
  }
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  return new Date(Math.max(cert.notBefore.getTime() + (2 * life) / 3, now.getTime()));
}

/**
 * Guards against renewal loops: a certificate younger than a tenth of its life is not renewed again
 * (unless forced), whatever a misconfigured window says.
 */
export function tooYoungToRenew(cert: CertificateTimes, now: Date): boolean {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  return now.getTime() - cert.notBefore.getTime() < life / 10;
}

/** Exponential backoff with full jitter, capped: attempt 1 waits up to 30 s, then 1, 2, 4 minutes ... */
export function backoffMs(attempt: number, random: () => number = Math.random, capMs = 3_600_000): number {
  const ceiling = Math.min(capMs, 30_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** From one third of the lifetime left, the agent warns (once a day) that it could not renew. */
export function inWarningZone(cert: CertificateTimes, now: Date): boolean {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  return cert.notAfter.getTime() - now.getTime() <= life / 3;
}

/** After a failed renewal: warn when a third of the lifetime or less is left and the last warning is a day old. */
export function agingWarningDue(cert: CertificateTimes, now: Date, lastWarning: Date | undefined): boolean {
  return inWarningZone(cert, now) && (!lastWarning || now.getTime() - lastWarning.getTime() >= DAY_MS);
}

/** How often to ask for the window again when the CA says nothing (RFC 9773 s4.3 leaves it to the client). */
export const DEFAULT_ARI_RECHECK_MS = 6 * 3_600_000;

/** When to poll the ARI window again: as Retry-After says (RFC 9773 s4.3), within a minute and a day. */
export function ariRecheckMs(retryAfter: number | undefined): number {
  return Math.min(DAY_MS, Math.max(MINUTE_MS, retryAfter ?? DEFAULT_ARI_RECHECK_MS));
}

/**
 * The daemon's next wake-up: the renewal moment or the next ARI poll, whichever comes first. A
 * moment already past that did not lead to a renewal (the loop guard held it back) is no reason
 * to wake at once; then the next poll decides, or a minute from now.
 */
export function nextWakeMs(renewal: Date | undefined, recheck: Date | undefined, now: Date): number {
  const ahead = [renewal, recheck].filter((t): t is Date => t !== undefined && t > now).map((t) => t.getTime() - now.getTime());
  return ahead.length ? Math.max(1000, Math.min(...ahead)) : MINUTE_MS;
}
