import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { fromMillis, type Millis } from './columns.js';
import { randomId } from './ids.js';

export interface EabCredential {
  kid: string;
  /** base64url, as RFC 8555 clients expect it. */
  hmacKey: string;
  deviceId: string | null;
  /** Exact names, ".suffix" entries and CIDR blocks; empty means the server's policy alone. */
  identifiers: string[];
  createdAt: Date;
  accountId: string | null;
}

export interface EabRepository {
  create(input: { deviceId?: string | null; identifiers: string[] }, now: Date): Promise<EabCredential>;
  byKid(kid: string): Promise<EabCredential | undefined>;
  /** Binds the credential to an account; false when another account already used it. */
  bind(kid: string, accountId: string, now: Date, trx?: Knex.Transaction): Promise<boolean>;
}

interface Row {
  kid: string;
  hmac_key: string;
  device_id: string | null;
  identifiers: string;
  created_at: Millis;
  account_id: string | null;
}

/**
 * 256 random bits, base64url. A key that begins with "-" would be read as an option by the ACME
 * clients' command lines (certbot --eab-hmac-key, lego --hmac), so such a draw is made again.
 */
function hmacKey(): string {
  for (;;) {
    const key = randomBytes(32).toString('base64url');
    if (!key.startsWith('-')) return key;
  }
}

export function eabRepository(db: Knex): EabRepository {
  return {
    async create(input, now) {
      const row = {
        kid: `kid-${randomId()}`,
        hmac_key: hmacKey(),
        device_id: input.deviceId ?? null,
        identifiers: JSON.stringify(input.identifiers),
        created_at: now.getTime(),
        account_id: null,
      };
      await db('eab_credentials').insert(row);
      return fromRow(row);
    },
    async byKid(kid) {
      const row = await db<Row>('eab_credentials').where({ kid }).first();
      return row ? fromRow(row) : undefined;
    },
    async bind(kid, accountId, now, trx) {
      const updated = await (trx ?? db)('eab_credentials')
        .where({ kid })
        .whereNull('account_id')
        .update({ account_id: accountId, used_at: now.getTime() });
      return updated === 1;
    },
  };
}

function fromRow(row: Row): EabCredential {
  return {
    kid: row.kid,
    hmacKey: row.hmac_key,
    deviceId: row.device_id,
    identifiers: JSON.parse(row.identifiers) as string[],
    createdAt: fromMillis(row.created_at),
    accountId: row.account_id,
  };
}
