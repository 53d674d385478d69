import type { Knex } from 'knex';
import { fromMillis, type Millis } from './columns.js';
import { randomId } from './ids.js';

export type AccountStatus = 'valid' | 'deactivated' | 'revoked';

export interface Account {
  id: string;
  thumbprint: string;
  jwk: Record<string, unknown>;
  status: AccountStatus;
  contact: string[];
  eabKid: string | null;
  deviceId: string | null;
  /** From the EAB credential: names, .suffixes and CIDRs this account may order; null = server policy. */
  allowedIdentifiers: string[] | null;
  createdAt: Date;
}

export interface NewAccount {
  thumbprint: string;
  jwk: Record<string, unknown>;
  contact: string[];
  eabKid: string | null;
  deviceId: string | null;
  allowedIdentifiers: string[] | null;
}

export interface AccountRepository {
  create(a: NewAccount, now: Date, trx?: Knex.Transaction): Promise<Account>;
  byId(id: string): Promise<Account | undefined>;
  byThumbprint(thumbprint: string): Promise<Account | undefined>;
  update(id: string, change: { contact?: string[]; status?: AccountStatus }): Promise<void>;
  /** Key rollover; false when another account already holds the new key. */
  changeKey(id: string, jwk: Record<string, unknown>, thumbprint: string): Promise<boolean>;
}

interface Row {
  id: string;
  thumbprint: string;
  jwk: string;
  status: AccountStatus;
  contact: string;
  eab_kid: string | null;
  device_id: string | null;
  allowed_identifiers: string | null;
  created_at: Millis;
}

export function accountRepository(db: Knex): AccountRepository {
  return {
    async create(a, now, trx) {
      const row: Row = {
        id: randomId(),
        thumbprint: a.thumbprint,
        jwk: JSON.stringify(a.jwk),
        status: 'valid',
        contact: JSON.stringify(a.contact),
        eab_kid: a.eabKid,
        device_id: a.deviceId,
        allowed_identifiers: a.allowedIdentifiers ? JSON.stringify(a.allowedIdentifiers) : null,
        created_at: now.getTime(),
      };
      await (trx ?? db)('accounts').insert(row);
      return fromRow(row);
    },
    async byId(id) {
      const row = await db<Row>('accounts').where({ id }).first();
      return row ? fromRow(row) : undefined;
    },
    async byThumbprint(thumbprint) {
      const row = await db<Row>('accounts').where({ thumbprint }).first();
      return row ? fromRow(row) : undefined;
    },
    async update(id, change) {
      const patch: Partial<Row> = {};
      if (change.contact) patch.contact = JSON.stringify(change.contact);
      if (change.status) patch.status = change.status;
      if (Object.keys(patch).length) await db('accounts').where({ id }).update(patch);
    },
    async changeKey(id, jwk, thumbprint) {
      try {
        await db('accounts').where({ id }).update({ jwk: JSON.stringify(jwk), thumbprint });
        return true;
      } catch (err) {
        if (await db('accounts').where({ thumbprint }).first()) return false; // the unique key said no
        throw err;
      }
    },
  };
}

function fromRow(row: Row): Account {
  return {
    id: row.id,
    thumbprint: row.thumbprint,
    jwk: JSON.parse(row.jwk) as Record<string, unknown>,
    status: row.status,
    contact: JSON.parse(row.contact) as string[],
    eabKid: row.eab_kid,
    deviceId: row.device_id,
    allowedIdentifiers: row.allowed_identifiers ? (JSON.parse(row.allowed_identifiers) as string[]) : null,
    createdAt: fromMillis(row.created_at),
  };
}
