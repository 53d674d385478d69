import { z } from 'zod';
import { clock, InputError, NotFoundError, parseInput, type Acting, type ServiceDeps } from '../policy/service.js';
import { ROLES, type Role, type Store, type User } from '../store/index.js';
import { lockoutDelayMs, lockRemainingMs } from './lockout.js';
import { generatePassword, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { generateTotpSecret, matchTotpStep, totpUri } from './totp.js';

export const usernameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, dot, dash and underscore, at most 64');
export const roleSchema = z.enum(ROLES);

export const newUserSchema = z
  .object({
    username: usernameSchema,
    role: roleSchema,
    /** Omitted: one is generated and returned once. */
    password: z.string().max(1024).optional(),
  })
  .strict();

/** What may be shown of a user: never the hash or the TOTP secret. */
export interface UserSummary {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  totpEnrolled: boolean;
  locked: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export function userSummary(u: User, now = new Date()): UserSummary {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    disabled: u.disabled,
    totpEnrolled: u.totpEnrolledAt !== null,
    locked: lockRemainingMs(u.lockedUntil, now) > 0,
    createdAt: u.createdAt,
    lastLoginAt: u.lastLoginAt,
  };
}

/** Admins and operators can revoke and enrol devices, so they need a second factor; the others once enrolled. */
export function requiresTotp(u: Pick<User, 'role' | 'totpEnrolledAt'>): boolean {
  return u.role === 'admin' || u.role === 'operator' || u.totpEnrolledAt !== null;
}

async function findUser(store: Store, username: string): Promise<User> {
  const user = await store.users.byUsername(username);
  if (!user) throw new NotFoundError('user', username);
  return user;
}

/**
 * Creates a user. Without a password one is generated and returned: shown once, never stored in
 * the clear. `enrolTotp` (quickstart's first admin) enrols a second factor at once and returns its secret.
 */
export async function addUser(
  deps: ServiceDeps,
  input: unknown,
  by: Acting,
  opts: { enrolTotp?: boolean } = {},
): Promise<{ user: UserSummary; password: string; generatedPassword: boolean; totpSecret: string | null }> {
  const wanted = parseInput(newUserSchema, input, 'user');
  const password = wanted.password ?? generatePassword();
  const problem = passwordProblem(password);
  if (problem) throw new InputError(`password: ${problem}`);
  const totpSecret = opts.enrolTotp ? generateTotpSecret() : null;
  const now = clock(deps);
  const user = await deps.store.users.create({ username: wanted.username, role: wanted.role, passwordHash: await hashPassword(password), totpSecret }, now);
  await deps.audit.record({ type: 'user.created', outcome: 'success', ...by, subject: { kind: 'user', id: user.id }, details: { username: user.username, role: user.role } });
  return { user: userSummary(user, now), password, generatedPassword: wanted.password === undefined, totpSecret };
}

export async function listUsers(deps: Pick<ServiceDeps, 'store' | 'now'>): Promise<UserSummary[]> {
  const now = clock(deps);
  return (await deps.store.users.list()).map((u) => userSummary(u, now));
}

/** A disabled user can no longer log in; the dashboard also ends their sessions. */
export async function disableUser(deps: ServiceDeps, username: string, by: Acting): Promise<UserSummary> {
  const user = await findUser(deps.store, username);
  await deps.store.users.setDisabled(user.id, true);
  await deps.audit.record({ type: 'user.disabled', outcome: 'success', ...by, subject: { kind: 'user', id: user.id }, details: { username: user.username } });
  return userSummary({ ...user, disabled: true }, clock(deps));
}

export async function changeRole(deps: ServiceDeps, username: string, role: unknown, by: Acting): Promise<UserSummary> {
  const newRole = parseInput(roleSchema, role, 'role');
  const user = await findUser(deps.store, username);
  await deps.store.users.setRole(user.id, newRole);
  await deps.audit.record({
    type: 'user.role-changed',
    outcome: 'success',
    ...by,
    subject: { kind: 'user', id: user.id },
    details: { username: user.username, from: user.role, to: newRole },
  });
  return userSummary({ ...user, role: newRole }, clock(deps));
}

export type LoginStep =
  | { ok: true; user: User; next: 'done' | 'totp' | 'enrol-totp' }
  /** invalid: a wrong (or unknown) credential; locked: refused unchecked until retryAfterMs pass. */
  | { ok: false; reason: 'invalid' | 'locked'; retryAfterMs: number };

/** Counts a failed attempt; retryAfterMs says how long the account is now locked (0: not yet). */
async function failed(deps: Pick<ServiceDeps, 'store'>, user: User, now: Date): Promise<LoginStep> {
  const failures = await deps.store.users.recordLoginFailure(user.id, lockoutDelayMs, now);
  return { ok: false, reason: 'invalid', retryAfterMs: lockoutDelayMs(failures) };
}

/**
 * The first login step. Unknown, disabled and wrong-password answers look alike ("invalid") and
 * take as long, so the form reveals no usernames. A locked account is not even checked until the
 * lock lifts. The caller records login.failure / login.locked with the peer's address.
 */
export async function checkPassword(deps: Pick<ServiceDeps, 'store' | 'now'>, username: string, password: string): Promise<LoginStep> {
  const now = clock(deps);
  const user = usernameSchema.safeParse(username).success ? await deps.store.users.byUsername(username) : undefined;
  const locked = user ? lockRemainingMs(user.lockedUntil, now) : 0;
  if (user && locked > 0) return { ok: false, reason: 'locked', retryAfterMs: locked };
  const good = await verifyPassword(user?.passwordHash, password);
  if (!user || user.disabled) return { ok: false, reason: 'invalid', retryAfterMs: 0 };
  if (!good) return failed(deps, user, now);
  if (!requiresTotp(user)) {
    await deps.store.users.recordLoginSuccess(user.id, now);
    return { ok: true, user, next: 'done' };
  }
  return { ok: true, user, next: user.totpEnrolledAt ? 'totp' : 'enrol-totp' };
}

/**
 * The second step for an enrolled user: the code must match within one step of now and be newer
 * than the last accepted code (a replay is refused). Failures count towards the same lockout.
 */
export async function checkTotp(deps: Pick<ServiceDeps, 'store' | 'now'>, userId: string, code: string): Promise<LoginStep> {
  const now = clock(deps);
  const user = await deps.store.users.byId(userId);
  if (!user || user.disabled || !user.totpSecret) return { ok: false, reason: 'invalid', retryAfterMs: 0 };
  const locked = lockRemainingMs(user.lockedUntil, now);
  if (locked > 0) return { ok: false, reason: 'locked', retryAfterMs: locked };
  const step = matchTotpStep(user.totpSecret, code, now);
  if (step === null || !(await deps.store.users.acceptTotpStep(user.id, step))) return failed(deps, user, now);
  await deps.store.users.recordLoginSuccess(user.id, now);
  return { ok: true, user, next: 'done' };
}

/** A fresh secret and the otpauth:// URI for its QR code; nothing is stored until confirmTotpEnrolment. */
export function startTotpEnrolment(username: string): { secret: string; uri: string } {
  const secret = generateTotpSecret();
  return { secret, uri: totpUri(username, secret) };
}

/**
 * Enrols the secret once the user proves their app holds it with a current code; that code's step
 * counts as used. Records totp.enrolled. False (and a counted failure) when the code does not match.
 */
export async function confirmTotpEnrolment(deps: ServiceDeps, userId: string, secret: string, code: string, by: Acting): Promise<LoginStep> {
  const now = clock(deps);
  const user = await deps.store.users.byId(userId);
  if (!user || user.disabled) return { ok: false, reason: 'invalid', retryAfterMs: 0 };
  const locked = lockRemainingMs(user.lockedUntil, now);
  if (locked > 0) return { ok: false, reason: 'locked', retryAfterMs: locked };
  const step = matchTotpStep(secret, code, now);
  if (step === null) return failed(deps, user, now);
  await deps.store.users.enrolTotp(user.id, secret, now);
  await deps.store.users.acceptTotpStep(user.id, step);
  await deps.store.users.recordLoginSuccess(user.id, now);
  await deps.audit.record({ type: 'totp.enrolled', outcome: 'success', ...by, subject: { kind: 'user', id: user.id }, details: { username: user.username } });
  return { ok: true, user: (await deps.store.users.byId(user.id))!, next: 'done' };
}
