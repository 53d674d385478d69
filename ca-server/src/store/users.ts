import type { Knex } from 'knex';
import { fromMillis, fromNullableMillis, toMillis, type Millis } from './columns.js';
import { randomId } from './ids.js';
import type { SecretBox } from './secret-box.js';

export const ROLES = ['admin', 'operator', 'viewer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  /** PHC string (Argon2id). */
  passwordHash: string;
  /** Base32 TOTP secret, opened from its sealed form; null until enrolled. */
  totpSecret: string | null;
  totpEnrolledAt: Date | null;
  /** The newest TOTP time step accepted; a code of this step or an older one is a replay. */
  totpLastStep: number | null;
  failedLogins: number;
  lockedUntil: Date | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export interface NewUser {
  username: string;
  role: Role;
  passwordHash: string;
  /** Quickstart enrols its admin at once; everybody else at first login. */
  totpSecret?: string | null;
}

export class UsernameTakenError extends Error {
  override readonly name = 'UsernameTakenError';

  constructor(readonly username: string) {
    super(`a user named "${username}" already exists`);
  }
}

export interface UserRepository {
  /** Throws UsernameTakenError when the name is in use. */
  create(u: NewUser, now: Date): Promise<User>;
  byId(id: string): Promise<User | undefined>;
  byUsername(username: string): Promise<User | undefined>;
  /** Ordered by username. */
  list(): Promise<User[]>;
  count(): Promise<number>;
  setRole(id: string, role: Role): Promise<boolean>;
  setDisabled(id: string, disabled: boolean): Promise<boolean>;
  setPasswordHash(id: string, passwordHash: string): Promise<boolean>;
  /** Stores the secret sealed and marks the user enrolled; the replay guard starts afresh. */
  enrolTotp(id: string, secret: string, now: Date): Promise<boolean>;
  /**
   * Accepts a TOTP time step only if it is newer than the last accepted one, in one statement, so
   * two requests racing with the same code cannot both pass. False: a replay.
   */
  acceptTotpStep(id: string, step: number): Promise<boolean>;
  /** Counts a failed attempt and sets the lock computed from the new count; returns that count. */
  recordLoginFailure(id: string, lockFor: (failures: number) => number, now: Date): Promise<number>;
  /** A complete login: failures forgotten, lock lifted, time noted. */
  recordLoginSuccess(id: string, now: Date): Promise<void>;
}

interface Row {
  id: string;
  username: string;
  role: Role;
  disabled: boolean | number;
  password_hash: string;
  totp_secret: string | null;
  totp_enrolled_at: Millis | null;
  totp_last_step: Millis | null;
  failed_logins: number;
  locked_until: Millis | null;
  created_at: Millis;
  last_login_at: Millis | null;
}

/** The TOTP secret is sealed at rest with the user's id as context (see secret-box.ts). */
export function userRepository(db: Knex, secrets: SecretBox): UserRepository {
  const table = () => db<Row>('users');
  const fromRow = async (r: Row): Promise<User> => ({
    id: r.id,
    username: r.username,
    role: r.role,
    disabled: Boolean(r.disabled),
    passwordHash: r.password_hash,
    totpSecret: r.totp_secret === null ? null : await secrets.open(r.totp_secret, r.id),
    totpEnrolledAt: fromNullableMillis(r.totp_enrolled_at),
    totpLastStep: r.totp_last_step === null ? null : Number(r.totp_last_step),
    failedLogins: r.failed_logins,
    lockedUntil: fromNullableMillis(r.locked_until),
    createdAt: fromMillis(r.created_at),
    lastLoginAt: fromNullableMillis(r.last_login_at),
  });
  const changed = async (id: string, patch: Partial<Row>) => (await table().where({ id }).update(patch)) === 1;
  return {
    async create(u, now) {
      const id = `usr-${randomId()}`;
      const row: Row = {
        id,
        username: u.username,
        role: u.role,
        disabled: false,
        password_hash: u.passwordHash,
        totp_secret: u.totpSecret ? await secrets.seal(u.totpSecret, id) : null,
        totp_enrolled_at: u.totpSecret ? toMillis(now) : null,
        totp_last_step: null,
        failed_logins: 0,
        locked_until: null,
        created_at: toMillis(now),
        last_login_at: null,
      };
      const inserted = await db('users').insert(row).onConflict('username').ignore().returning('id');
      if (inserted.length === 0) throw new UsernameTakenError(u.username);
      return fromRow(row);
    },
    async byId(id) {
      const row = await table().where({ id }).first();
      return row ? fromRow(row) : undefined;
    },
    async byUsername(username) {
      const row = await table().where({ username }).first();
      return row ? fromRow(row) : undefined;
    },
    async list() {
      return Promise.all((await table().orderBy('username')).map(fromRow));
    },
    async count() {
      const [row] = await db('users').count({ n: '*' });
      return Number(row!.n);
    },
    setRole: (id, role) => changed(id, { role }),
    setDisabled: (id, disabled) => changed(id, { disabled }),
    setPasswordHash: (id, passwordHash) => changed(id, { password_hash: passwordHash }),
    async enrolTotp(id, secret, now) {
      return changed(id, { totp_secret: await secrets.seal(secret, id), totp_enrolled_at: toMillis(now), totp_last_step: null });
    },
    async acceptTotpStep(id, step) {
      const updated = await table()
        .where({ id })
        .andWhere((q) => q.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
        .update({ totp_last_step: step });
      return updated === 1;
    },
    async recordLoginFailure(id, lockFor, now) {
      return db.transaction(async (trx) => {
        await trx('users').where({ id }).increment('failed_logins', 1);
        const row = await trx<Row>('users').where({ id }).first('failed_logins');
        const failures = row?.failed_logins ?? 0;
        const lockMs = lockFor(failures);
        await trx('users').where({ id }).update({ locked_until: lockMs > 0 ? toMillis(now) + lockMs : null });
        return failures;
      });
    },
    async recordLoginSuccess(id, now) {
      await table().where({ id }).update({ failed_logins: 0, locked_until: null, last_login_at: toMillis(now) });
    },
  };
}
