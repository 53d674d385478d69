import { Algorithm, hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const MIN_PASSWORD_LENGTH = 12;
/** Argon2 hashes whatever it is given; a bound keeps a megabyte "password" from costing a core. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * Argon2id with the OWASP recommendation's first set (m = 19 MiB, t = 2, p = 1): about 30 ms here,
 * slow enough for an offline attack to be expensive, cheap enough for a login form.
 */
const ARGON2ID = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** ca-server/data/common-passwords.txt, shipped with the package; where it comes from is in its header. */
const COMMON_PASSWORDS_FILE = new URL('../../data/common-passwords.txt', import.meta.url);

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(COMMON_PASSWORDS_FILE, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  return common;
}

export class PasswordPolicyError extends Error {
  override readonly name = 'PasswordPolicyError';
}

/**
 * Why a password is refused, or null. Besides the length: the list of common passwords, also
 * with the digits and symbols people pad them with stripped ("Password1234!" is "password").
 */
export function passwordProblem(password: string): string | null {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `a password may have at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  const list = commonPasswords();
  if (list.has(lower) || (core.length >= 4 && list.has(core))) return 'this password is on the list of common passwords; choose another';
  if (new Set(lower).size < 4) return 'a password needs more than three different characters';
  return null;
}

export function assertPasswordPolicy(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new PasswordPolicyError(problem);
}

/** Checks the policy, then hashes: a PHC string ($argon2id$v=19$m=19456,t=2,p=1$...). */
export async function hashPassword(password: string): Promise<string> {
  assertPasswordPolicy(password);
  return hash(password, ARGON2ID);
}

/** Hashed once, so an unknown username costs as much time as a known one. */
let decoy: Promise<string> | undefined;

/** Constant-time verification; with no hash (an unknown user) a decoy is verified and false returned. */
export async function verifyPassword(passwordHash: string | undefined, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  if (passwordHash === undefined) {
    decoy ??= hash(randomBytes(16).toString('hex'), ARGON2ID);
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}

/** 20 characters from a 64-symbol alphabet: 120 random bits, never on any list. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
