/** Failed attempts (password or second factor) that cost nothing yet: typos happen. */
export const FREE_ATTEMPTS = 3;
const FIRST_DELAY_MS = 15_000;
const MAX_DELAY_MS = 15 * 60_000;

/**
 * How long an account stays locked after its n-th failed attempt in a row: nothing for the first
 * three, then 15 s, doubling with every further failure, at most 15 minutes. Guessing stays slow
 * (a 6-digit code or a list of passwords needs years), while a legitimate user who mistyped waits
 * seconds, and an attacker cannot lock anyone out for longer than a quarter of an hour at a time.
 */
export function lockoutDelayMs(failures: number): number {
  if (failures <= FREE_ATTEMPTS) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failures - FREE_ATTEMPTS - 1));
}

/** Milliseconds until the lock lifts, or 0 when not locked. */
export function lockRemainingMs(lockedUntil: Date | null, now: Date): number {
  return lockedUntil ? Math.max(0, lockedUntil.getTime() - now.getTime()) : 0;
}
