import type { Knex } from 'knex';
import { fromMillis, fromNullableMillis, toCount, toMillis, type Millis } from './columns.js';
import type { CertificateRecord, CertificateRow, Identifier } from './certificates.js';

/** What the dashboard calls a certificate's state: its status and where its expiry stands now. */
export const CERTIFICATE_STATES = ['valid', 'expiring-24h', 'expiring-7d', 'expired', 'revoked'] as const;
export type CertificateState = (typeof CERTIFICATE_STATES)[number];

export const CERTIFICATE_SORTS = ['expiry', 'issued', 'device', 'name'] as const;
export type CertificateSort = (typeof CERTIFICATE_SORTS)[number];

export interface CertificateFilter {
  state?: CertificateState;
  profile?: string;
  deviceId?: string;
  /** Part of a name (an identifier), of the device id, or the start of the serial. */
  search?: string;
}

export interface CertificatePageQuery extends CertificateFilter {
  sort: CertificateSort;
  descending: boolean;
  offset: number;
  limit: number;
}

/** A certificate as lists show it: the record without its DER, its key hash and its order. */
export type CertificateSummary = Omit<CertificateRecord, 'der' | 'spkiSha256' | 'orderId' | 'deviceId' | 'accountId' | 'replaces'> & {
  deviceId: string | null;
  accountId: string | null;
  replaces: string | null;
};

export interface ExpiryBucket {
  start: Date;
  count: number;
}

export interface CertificateSearchRepository {
  /** One page and the size of the whole filtered set; every filter and sort runs on an index. */
  page(q: CertificatePageQuery, now: Date): Promise<{ total: number; items: CertificateSummary[] }>;
  /** The whole filtered set in order, fetched a batch at a time (for CSV export). */
  each(q: Omit<CertificatePageQuery, 'offset' | 'limit'>, now: Date): AsyncGenerator<CertificateSummary>;
  countByState(now: Date): Promise<Record<CertificateState, number>>;
  /** Unrevoked certificates expiring in [now, until), counted per bucket of `bucketMs`. */
  expiryBuckets(now: Date, until: Date, bucketMs: number): Promise<ExpiryBucket[]>;
  /**
   * Valid, unexpired certificates that an ACME account holds (others have no ARI-driven renewal: the
   * CA's own, those issued by hand) and that are past five sixths of their life, the latest an ARI
   * window ends; soonest expiry first.
   */
  pastRenewalPoint(now: Date, limit: number): Promise<CertificateSummary[]>;
  /** Which of these ARI certIDs a later certificate names in `replaces`. */
  replacedAmong(certIds: string[]): Promise<Set<string>>;
}

const SUMMARY_COLUMNS = [
  'serial', 'profile', 'subject', 'identifiers', 'not_before', 'not_after', 'issued_at', 'device_id',
  'account_id', 'status', 'revoked_at', 'revocation_reason', 'renew_by', 'replaces', 'issuer_key_id',
] as const;

type Row = Omit<CertificateRow, 'der' | 'spki_sha256' | 'order_id'>;

/** Each sort's columns, tie-breakers included, as migration 010 indexes them. */
const SORT_COLUMNS: Record<CertificateSort, string[]> = {
  expiry: ['not_after', 'serial'],
  issued: ['issued_at', 'serial'],
  device: ['device_id', 'not_after', 'serial'],
  name: ['subject', 'not_after', 'serial'],
};
/**
 * A search with at most this many matches fetches them through the narrow search index and sorts
 * them; one with more walks the sort's index and stops at a page (matches are then dense).
 */
const SPARSE_SEARCH_MAX = 2000;
const HOUR_MS = 3_600_000;
const BATCH = 1000;

/** The user's text for LIKE, with its own %, _ and \\ taken literally. */
const literal = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function applyState(query: Knex.QueryBuilder, state: CertificateState, now: Date): void {
  const at = toMillis(now);
  if (state === 'revoked') {
    query.where('status', 'revoked');
    return;
  }
  query.where('status', 'valid');
  if (state === 'expired') query.where('not_after', '<=', at);
  else query.where('not_after', '>', at);
  if (state === 'expiring-24h') query.where('not_after', '<=', at + 24 * HOUR_MS);
  if (state === 'expiring-7d') query.where('not_after', '<=', at + 7 * 24 * HOUR_MS);
}

/** Every filter but the search. */
function applyFilter(query: Knex.QueryBuilder, f: CertificateFilter, now: Date, sqlite: boolean): void {
  if (f.state) applyState(query, f.state, now);
  // A hospital has a handful of profiles, so one matches a large share of the rows: walking the
  // sort's index beats sorting them all, and SQLite's planner needs the unary + to see it that way.
  if (f.profile !== undefined) query.whereRaw(sqlite ? '+profile = ?' : 'profile = ?', [f.profile]);
  if (f.deviceId !== undefined) query.where('device_id', f.deviceId);
}

/** Names and serials are stored in lowercase, so no lower() per row on them; device ids keep their case. */
function applySearch(query: Knex.QueryBuilder, search: string): void {
  const lower = literal(search.toLowerCase());
  query.where((w) =>
    w
      .whereRaw("identifiers like ? escape '\\'", [`%${lower}%`])
      // lower(): PostgreSQL's LIKE minds case where SQLite's does not; a device id is found either way on both.
      .orWhereRaw("lower(device_id) like ? escape '\\'", [`%${lower}%`])
      .orWhereRaw("serial like ? escape '\\'", [`${lower}%`]),
  );
}

const fromRow = (r: Row): CertificateSummary => ({
  serial: r.serial,
  profile: r.profile,
  subject: r.subject,
  identifiers: JSON.parse(r.identifiers) as Identifier[],
  notBefore: fromMillis(r.not_before),
  notAfter: fromMillis(r.not_after),
  issuedAt: fromMillis(r.issued_at),
  deviceId: r.device_id,
  accountId: r.account_id,
  status: r.status,
  revokedAt: fromNullableMillis(r.revoked_at),
  revocationReason: r.revocation_reason,
  renewBy: fromNullableMillis(r.renew_by ?? null),
  replaces: r.replaces,
  issuerKeyId: r.issuer_key_id,
});

export function certificateSearchRepository(db: Knex): CertificateSearchRepository {
  const sqlite = db.client.config.client === 'sqlite3';
  /**
   * The filtered set. A search either names its few matching serials (found through the narrow
   * search index) or, when it matches many, is a condition checked while walking the sort's index.
   */
  const filtered = (query: Knex.QueryBuilder, f: CertificateFilter, now: Date, matches?: string[]) => {
    applyFilter(query, f, now, sqlite);
    if (matches) query.whereIn('serial', matches);
    else if (f.search !== undefined) applySearch(query, f.search);
    return query;
  };
  const ordered = (q: Omit<CertificatePageQuery, 'offset' | 'limit'>, now: Date, matches?: string[]) => {
    const query = filtered(db<Row>('certificates').select(...SUMMARY_COLUMNS), q, now, matches);
    const order = q.descending ? 'desc' : 'asc';
    return query.orderBy(SORT_COLUMNS[q.sort].map((column) => ({ column, order })));
  };
  const count = async (build: (q: Knex.QueryBuilder) => void): Promise<number> => {
    const query = db('certificates');
    build(query);
    const row = (await query.count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  };
  /** The serials a search matches, when there are at most SPARSE_SEARCH_MAX of them. */
  const sparseMatches = async (search: string | undefined): Promise<string[] | undefined> => {
    if (search === undefined) return undefined;
    const rows = (await db('certificates').select('serial').where((w) => applySearch(w, search)).limit(SPARSE_SEARCH_MAX + 1)) as { serial: string }[];
    return rows.length > SPARSE_SEARCH_MAX ? undefined : rows.map((r) => r.serial);
  };

  return {
    async page(q, now) {
      const matches = await sparseMatches(q.search);
      const [total, rows] = await Promise.all([
        count((query) => filtered(query, q, now, matches)),
        ordered(q, now, matches).offset(toCount('offset', q.offset)).limit(toCount('limit', q.limit)) as Promise<Row[]>,
      ]);
      return { total, items: rows.map(fromRow) };
    },

    async *each(q, now) {
      for (let offset = 0; ; offset += BATCH) {
        const rows = (await ordered(q, now).offset(offset).limit(BATCH)) as Row[];
        for (const row of rows) yield fromRow(row);
        if (rows.length < BATCH) return;
      }
    },

    async countByState(now) {
      const entries = await Promise.all(CERTIFICATE_STATES.map(async (state) => [state, await count((query) => applyState(query, state, now))] as const));
      return Object.fromEntries(entries) as Record<CertificateState, number>;
    },

    async expiryBuckets(now, until, bucketMs) {
      const from = toMillis(now);
      const size = toCount('bucketMs', bucketMs);
      // Both are safe integers, written into the SQL so that both dialects divide integers and pg
      // sees the grouped expression as the selected one.
      const rows = (await db('certificates')
        .select(db.raw(`(not_after - ${from}) / ${size} as bucket`))
        .count({ n: '*' })
        .where('status', 'valid')
        .where('not_after', '>', from)
        .where('not_after', '<', toMillis(until))
        .groupByRaw('1')) as { bucket: number | string; n: number | string }[];
      const counts = new Map(rows.map((r) => [Number(r.bucket), Number(r.n)]));
      const buckets: ExpiryBucket[] = [];
      for (let i = 0; from + i * size < toMillis(until); i++) buckets.push({ start: new Date(from + i * size), count: counts.get(i) ?? 0 });
      return buckets;
    },

    async pastRenewalPoint(now, limit) {
      const at = toMillis(now);
      const rows = (await db<Row>('certificates')
        .select(...SUMMARY_COLUMNS)
        .where('status', 'valid')
        .where('not_after', '>', at)
        .whereNotNull('account_id')
        // 6 * notBefore + 5 * life < 6 * now, kept in integers: notBefore + 5/6 of the life has passed.
        .whereRaw('not_before + 5 * not_after < 6 * cast(? as bigint)', [at])
        .orderBy('not_after')
        .limit(toCount('limit', limit))) as Row[];
      return rows.map(fromRow);
    },

    async replacedAmong(certIds) {
      if (certIds.length === 0) return new Set();
      const rows = (await db('certificates').select('replaces').whereIn('replaces', certIds)) as { replaces: string }[];
      return new Set(rows.map((r) => r.replaces));
    },
  };
}
