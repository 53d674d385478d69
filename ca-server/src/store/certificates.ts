import type { Knex } from 'knex';
import { fromMillis, fromNullableMillis, toBuffer, toCount, toMillis, type Millis } from './columns.js';
import { DuplicateSerialError } from './errors.js';

export type CertificateStatus = 'valid' | 'revoked';

export interface Identifier {
  type: 'dns' | 'ip';
  value: string;
}

export interface NewCertificate {
  /** Lowercase hex, stored exactly as given: '00ff' and 'ff' are different serials. */
  serial: string;
  profile: string;
  /** RFC 4514-style DN string. */
  subject: string;
  identifiers: Identifier[];
  notBefore: Date;
  notAfter: Date;
  /** The leaf certificate. */
  der: Uint8Array;
  /** Hex of the issuer's subject key identifier, for ARI certIDs. */
  issuerKeyId: string;
  /** Hex SHA-256 of the leaf's SubjectPublicKeyInfo, for revocation by key. */
  spkiSha256: string;
  accountId?: string | null;
  orderId?: string | null;
  deviceId?: string | null;
  /** ARI certID of the certificate this one replaces. */
  replaces?: string | null;
}

export interface CertificateRecord extends NewCertificate {
  issuedAt: Date;
  status: CertificateStatus;
  revokedAt: Date | null;
  revocationReason: number | null;
  /** Set by renew-now: ARI tells the holder to renew from this moment. */
  renewBy: Date | null;
}

/** Which certificates an operator's renew-now applies to. */
export type RenewSelection = { serials: string[] } | { profile: string } | { all: true };

export interface CertificateQuery {
  limit?: number;
  offset?: number;
  status?: CertificateStatus;
  /** Only certificates whose notAfter is strictly earlier. */
  expiringBefore?: Date;
  /** Only this inventory device's certificates. */
  deviceId?: string;
}

export interface RevokedCertificate {
  serial: string;
  revokedAt: Date;
  reason: number;
}

export interface CertificateRepository {
  /** Throws DuplicateSerialError when the serial is already stored. */
  insert(c: NewCertificate): Promise<void>;
  bySerial(serial: string): Promise<CertificateRecord | undefined>;
  /** Ordered by notAfter, then serial, so pages are stable. */
  list(q?: CertificateQuery): Promise<CertificateRecord[]>;
  /** False when the serial is unknown or already revoked; the first revocation's reason and time stand. */
  markRevoked(serial: string, reason: number, at: Date): Promise<boolean>;
  /**
   * Revoked certificates for CRLs, ordered by revocation time: only `issuerKeyId`'s when given, only
   * those revoked at or after `revokedSince`, and those that expired before `expiredBefore` left out.
   */
  revoked(q?: { issuerKeyId?: string; expiredBefore?: Date; revokedSince?: Date }): Promise<RevokedCertificate[]>;
  /** Valid certificates whose notAfter lies in (from, until]: one indexed count (status, not_after). */
  countExpiring(from: Date, until: Date): Promise<number>;
  /** Pulls the ARI window of valid, unexpired certificates into the past; returns how many. */
  renewNow(selection: RenewSelection, at: Date): Promise<number>;
}

/** A row of the certificates table as both drivers return it. */
export interface CertificateRow {
  serial: string;
  profile: string;
  subject: string;
  identifiers: string;
  not_before: Millis;
  not_after: Millis;
  der: Buffer;
  issuer_key_id: string;
  spki_sha256: string;
  account_id: string | null;
  order_id: string | null;
  device_id: string | null;
  replaces: string | null;
  issued_at: Millis;
  status: CertificateStatus;
  revoked_at: Millis | null;
  revocation_reason: number | null;
  renew_by?: Millis | null;
}

export function certificateRepository(db: Knex): CertificateRepository {
  const table = () => db<CertificateRow>('certificates');
  return {
    async insert(c) {
      // ON CONFLICT DO NOTHING instead of catching the error: no driver-specific error codes,
      // and an enclosing pg transaction is not aborted.
      const inserted = await table().insert(toRow(c, new Date())).onConflict('serial').ignore().returning('serial');
      if (inserted.length === 0) throw new DuplicateSerialError(c.serial);
    },

    async bySerial(serial) {
      const row = await table().where({ serial }).first();
      return row && fromRow(row);
    },

    async list(q = {}) {
      const query = table().orderBy([{ column: 'not_after' }, { column: 'serial' }]);
      if (q.status !== undefined) query.where('status', q.status);
      if (q.expiringBefore !== undefined) query.where('not_after', '<', toMillis(q.expiringBefore));
      if (q.deviceId !== undefined) query.where('device_id', q.deviceId);
      if (q.limit !== undefined) query.limit(toCount('limit', q.limit));
      if (q.offset !== undefined) query.offset(toCount('offset', q.offset));
      return (await query).map(fromRow);
    },

    async markRevoked(serial, reason, at) {
      // The status condition makes check-and-set one statement, so concurrent revocations cannot both win.
      const changed = await table()
        .where({ serial, status: 'valid' })
        .update({ status: 'revoked', revoked_at: toMillis(at), revocation_reason: reason });
      return changed === 1;
    },

    async countExpiring(from, until) {
      const [row] = await table()
        .where('status', 'valid')
        .andWhere('not_after', '>', toMillis(from))
        .andWhere('not_after', '<=', toMillis(until))
        .count({ n: '*' });
      return Number(row!.n);
    },

    async renewNow(selection, at) {
      const query = table().where('status', 'valid').andWhere('not_after', '>', toMillis(at));
      if ('serials' in selection) query.whereIn('serial', selection.serials);
      else if ('profile' in selection) query.where('profile', selection.profile);
      return query.update({ renew_by: toMillis(at) });
    },

    async revoked(q = {}) {
      const query = table().where({ status: 'revoked' });
      if (q.issuerKeyId !== undefined) query.andWhere('issuer_key_id', q.issuerKeyId);
      if (q.expiredBefore) query.andWhere('not_after', '>=', toMillis(q.expiredBefore));
      if (q.revokedSince) query.andWhere('revoked_at', '>=', toMillis(q.revokedSince));
      const rows = await query
        .orderBy([{ column: 'revoked_at' }, { column: 'serial' }])
        .select('serial', 'revoked_at', 'revocation_reason');
      // The table's CHECK constraint guarantees both columns are set on a revoked row.
      return rows.map((row) => ({
        serial: row.serial,
        revokedAt: fromMillis(row.revoked_at as Millis),
        reason: row.revocation_reason as number,
      }));
    },
  };
}

function toRow(c: NewCertificate, issuedAt: Date): CertificateRow {
  return {
    serial: c.serial,
    profile: c.profile,
    subject: c.subject,
    identifiers: JSON.stringify(c.identifiers.map(({ type, value }) => ({ type, value }))),
    not_before: toMillis(c.notBefore),
    not_after: toMillis(c.notAfter),
    der: toBuffer(c.der),
    issuer_key_id: c.issuerKeyId,
    spki_sha256: c.spkiSha256,
    account_id: c.accountId ?? null,
    order_id: c.orderId ?? null,
    device_id: c.deviceId ?? null,
    replaces: c.replaces ?? null,
    issued_at: toMillis(issuedAt),
    status: 'valid',
    revoked_at: null,
    revocation_reason: null,
  };
}

function fromRow(row: CertificateRow): CertificateRecord {
  return {
    serial: row.serial,
    profile: row.profile,
    subject: row.subject,
    identifiers: JSON.parse(row.identifiers) as Identifier[],
    notBefore: fromMillis(row.not_before),
    notAfter: fromMillis(row.not_after),
    der: row.der,
    issuerKeyId: row.issuer_key_id,
    spkiSha256: row.spki_sha256,
    accountId: row.account_id,
    orderId: row.order_id,
    deviceId: row.device_id,
    replaces: row.replaces,
    issuedAt: fromMillis(row.issued_at),
    status: row.status,
    revokedAt: fromNullableMillis(row.revoked_at),
    revocationReason: row.revocation_reason,
    renewBy: fromNullableMillis(row.renew_by ?? null),
  };
}
