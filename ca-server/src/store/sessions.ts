import type { Knex } from 'knex';
import { fromMillis, toMillis, type Millis } from './columns.js';

/** password: a TOTP code is due next; enrol: TOTP must be set up before anything else; active: signed in. */
export type SessionStage = 'password' | 'enrol' | 'active';

export interface SessionRecord {
  /** Hex SHA-256 of the id in the cookie; the id itself is never stored. */
  idHash: string;
  userId: string;
  stage: SessionStage;
  csrfToken: string;
  pendingTotpSecret: string | null;
  remoteAddress: string | null;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface SessionRepository {
  create(s: SessionRecord): Promise<void>;
  byIdHash(idHash: string): Promise<SessionRecord | undefined>;
  /** Marks the session used now; false when it is gone (logged out, purged). */
  touch(idHash: string, at: Date): Promise<boolean>;
  /** Moves a session to its next stage; the pending TOTP secret goes with it unless given. */
  advance(idHash: string, stage: SessionStage, pendingTotpSecret?: string | null): Promise<boolean>;
  delete(idHash: string): Promise<boolean>;
  /** Signs a user out everywhere (disabled, role changed). */
  deleteForUser(userId: string): Promise<number>;
  /** Removes sessions idle since `idleBefore` or created before `createdBefore`. */
  purge(idleBefore: Date, createdBefore: Date): Promise<number>;
}

interface Row {
  id_hash: string;
  user_id: string;
  stage: SessionStage;
  csrf_token: string;
  pending_totp_secret: string | null;
  remote_address: string | null;
  created_at: Millis;
  last_seen_at: Millis;
}

const fromRow = (r: Row): SessionRecord => ({
  idHash: r.id_hash,
  userId: r.user_id,
  stage: r.stage,
  csrfToken: r.csrf_token,
  pendingTotpSecret: r.pending_totp_secret,
  remoteAddress: r.remote_address,
  createdAt: fromMillis(r.created_at),
  lastSeenAt: fromMillis(r.last_seen_at),
});

export function sessionRepository(db: Knex): SessionRepository {
  const table = () => db<Row>('sessions');
  return {
    async create(s) {
      await table().insert({
        id_hash: s.idHash,
        user_id: s.userId,
        stage: s.stage,
        csrf_token: s.csrfToken,
        pending_totp_secret: s.pendingTotpSecret,
        remote_address: s.remoteAddress,
        created_at: toMillis(s.createdAt),
        last_seen_at: toMillis(s.lastSeenAt),
      });
    },
    async byIdHash(idHash) {
      const row = await table().where({ id_hash: idHash }).first();
      return row && fromRow(row);
    },
    async touch(idHash, at) {
      return (await table().where({ id_hash: idHash }).update({ last_seen_at: toMillis(at) })) === 1;
    },
    async advance(idHash, stage, pendingTotpSecret = null) {
      return (await table().where({ id_hash: idHash }).update({ stage, pending_totp_secret: pendingTotpSecret })) === 1;
    },
    async delete(idHash) {
      return (await table().where({ id_hash: idHash }).delete()) === 1;
    },
    async deleteForUser(userId) {
      return table().where({ user_id: userId }).delete();
    },
    async purge(idleBefore, createdBefore) {
      return table().where('last_seen_at', '<', toMillis(idleBefore)).orWhere('created_at', '<', toMillis(createdBefore)).delete();
    },
  };
}
