import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30-second steps. */
const PERIOD_S = 30;
const DIGITS = 6;
/** One step either side, for a phone clock a little off. */
const SKEW_STEPS = 1;
const ISSUER = 'Wardcert';

const totpFor = (secret: string, username = '') =>
  new TOTP({ issuer: ISSUER, label: username, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_S, secret: Secret.fromBase32(secret) });

/** 160 random bits (RFC 4226 s4 recommends the HMAC's output length), base32 as the apps take it. */
export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app reads from the QR code. */
export function totpUri(username: string, secret: string): string {
  return totpFor(secret, username).toString();
}

/** The time step a moment falls in. */
export function totpStep(now: Date): number {
  return Math.floor(now.getTime() / 1000 / PERIOD_S);
}

/** The code for a moment: for tests and for showing what an app should display. */
export function totpCode(secret: string, now: Date): string {
  return totpFor(secret).generate({ timestamp: now.getTime() });
}

/**
 * The time step a code belongs to, within one step of now, or null when it matches none. The
 * caller must still refuse a step that is not newer than the last one accepted (a replay):
 * UserRepository.acceptTotpStep does that atomically.
 */
export function matchTotpStep(secret: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(secret).validate({ token: code, timestamp: now.getTime(), window: SKEW_STEPS });
  return delta === null ? null : totpStep(now) + delta;
}
