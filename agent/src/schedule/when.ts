/** When to renew: inside the CA's ARI window when it gives one, else at two thirds of the lifetime. */

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
