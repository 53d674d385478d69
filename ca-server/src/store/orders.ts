import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { fromMillis, fromNullableMillis, type Millis } from './columns.js';
import { randomId } from './ids.js';
import { certificateRepository, type Identifier, type NewCertificate } from './certificates.js';

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type ChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';
export type ChallengeType = 'http-01' | 'tls-alpn-01' | 'dns-01';

/** An RFC 7807 problem as stored with an order or challenge. */
export interface StoredProblem {
  type: string;
  detail: string;
  status?: number;
  subproblems?: unknown[];
}

export interface Order {
  id: string;
  accountId: string;
  status: OrderStatus;
  identifiers: Identifier[];
  profile: string;
  notBefore: Date | null;
  notAfter: Date | null;
  expiresAt: Date;
  error: StoredProblem | null;
  certificateSerial: string | null;
  replaces: string | null;
  createdAt: Date;
}

export interface Challenge {
  id: string;
  authzId: string;
  type: ChallengeType;
  token: string;
  status: ChallengeStatus;
  validatedAt: Date | null;
  error: StoredProblem | null;
}

export interface Authorization {
  id: string;
  orderId: string;
  accountId: string;
  identifier: Identifier;
  wildcard: boolean;
  status: AuthorizationStatus;
  expiresAt: Date;
  challenges: Challenge[];
}

export interface NewOrder {
  accountId: string;
  identifiers: Identifier[];
  profile: string;
  notBefore: Date | null;
  notAfter: Date | null;
  expiresAt: Date;
  replaces: string | null;
  /** Which challenges each identifier gets (RFC 8738: no dns-01 for IP addresses). */
  challengeTypes: (id: Identifier) => ChallengeType[];
}

/** A challenge a validator has leased, with what it needs to validate. */
export interface ChallengeWork {
  challenge: Challenge;
  authorization: Authorization;
  accountId: string;
}

export type ChallengeOutcome = { status: 'valid'; validatedAt: Date } | { status: 'invalid'; error: StoredProblem };

export interface OrderRepository {
  create(o: NewOrder, now: Date): Promise<{ order: Order; authorizations: Authorization[] }>;
  byId(id: string): Promise<Order | undefined>;
  idsByAccount(accountId: string, limit: number, before?: Date): Promise<{ id: string; createdAt: Date }[]>;
  /** The order and its authorizations' ids (fixed when the order is made), in one read. */
  withAuthorizationIds(id: string): Promise<{ order: Order; authorizationIds: string[] } | undefined>;
  authorization(id: string): Promise<Authorization | undefined>;
  authorizationsOf(orderId: string): Promise<Authorization[]>;
  deactivateAuthorization(id: string): Promise<boolean>;
  challenge(id: string): Promise<Challenge | undefined>;
  /** pending -> processing; false when the challenge was not pending. */
  startChallenge(id: string): Promise<boolean>;
  /** Challenges waiting for or in validation, on every instance. */
  countProcessingChallenges(): Promise<number>;
  /** Leases up to `limit` processing challenges whose lease ran out (or never existed). */
  claimChallenges(now: Date, leaseMs: number, limit: number): Promise<ChallengeWork[]>;
  /** Records a validation result and carries it to the authorization and the order. */
  finishChallenge(id: string, outcome: ChallengeOutcome): Promise<void>;
  /**
   * ready -> processing for one finalization, held until `until`; returns its token, or undefined
   * when the order was not ready (another request, maybe on another instance, is finalizing it).
   */
  beginFinalize(id: string, now: Date, until: Date): Promise<string | undefined>;
  /**
   * In one transaction: stores the certificate and makes the order valid, only while `token` still
   * holds it. False when the finalization was handed back meanwhile: then nothing is stored.
   * Throws DuplicateSerialError (and changes nothing) when the serial is taken.
   */
  completeFinalize(id: string, token: string, certificate: NewCertificate): Promise<boolean>;
  /** processing -> ready for a finalization that failed; someone else's is left alone. */
  abandonFinalize(id: string, token: string): Promise<void>;
  /** Finalizations whose instance died (past their deadline) hand their orders back as ready. */
  recoverStalled(now: Date, orderId?: string): Promise<number>;
  /** Orders and authorizations past their expiry become invalid / expired (only `orderId`'s when given). */
  expire(now: Date, orderId?: string): Promise<number>;
}

interface OrderRow {
  id: string;
  account_id: string;
  status: OrderStatus;
  identifiers: string;
  profile: string;
  not_before: Millis | null;
  not_after: Millis | null;
  expires_at: Millis;
  error: string | null;
  certificate_serial: string | null;
  replaces: string | null;
  created_at: Millis;
  finalize_token?: string | null;
  processing_until?: Millis | null;
}

interface AuthzRow {
  id: string;
  order_id: string;
  account_id: string;
  identifier_type: 'dns' | 'ip';
  identifier_value: string;
  wildcard: boolean | number;
  status: AuthorizationStatus;
  expires_at: Millis;
}

const CHALLENGE_COLUMNS = ['id', 'authz_id', 'type', 'token', 'status', 'validated_at', 'error'];

interface ChallengeRow {
  id: string;
  authz_id: string;
  type: ChallengeType;
  token: string;
  status: ChallengeStatus;
  validated_at: Millis | null;
  error: string | null;
}

/** A challenge's columns as a join beside its authorization names them (c_id, c_type, ...). */
type PrefixedChallengeRow = { [K in keyof ChallengeRow as `c_${K}`]: ChallengeRow[K] };

function unprefixed(r: PrefixedChallengeRow): ChallengeRow {
  return { id: r.c_id, authz_id: r.c_authz_id, type: r.c_type, token: r.c_token, status: r.c_status, validated_at: r.c_validated_at, error: r.c_error };
}

export function orderRepository(db: Knex): OrderRepository {
  const authzWithChallenges = async (rows: AuthzRow[]): Promise<Authorization[]> => {
    if (rows.length === 0) return [];
    const challenges = await db<ChallengeRow>('challenges').whereIn('authz_id', rows.map((r) => r.id)).orderBy('type');
    return rows.map((r) => authzFromRow(r, challenges.filter((c) => c.authz_id === r.id).map(challengeFromRow)));
  };

  const repo: OrderRepository = {
    async create(o, now) {
      return db.transaction(async (trx) => {
        const orderRow: OrderRow = {
          id: randomId(),
          account_id: o.accountId,
          status: 'pending',
          identifiers: JSON.stringify(o.identifiers),
          profile: o.profile,
          not_before: o.notBefore?.getTime() ?? null,
          not_after: o.notAfter?.getTime() ?? null,
          expires_at: o.expiresAt.getTime(),
          error: null,
          certificate_serial: null,
          replaces: o.replaces,
          created_at: now.getTime(),
        };
        await trx('orders').insert(orderRow);
        const authorizations: Authorization[] = [];
        for (const id of o.identifiers) {
          const wildcard = id.type === 'dns' && id.value.startsWith('*.');
          const row: AuthzRow = {
            id: randomId(),
            order_id: orderRow.id,
            account_id: o.accountId,
            identifier_type: id.type,
            identifier_value: wildcard ? id.value.slice(2) : id.value,
            wildcard,
            status: 'pending',
            expires_at: o.expiresAt.getTime(),
          };
          await trx('authorizations').insert(row);
          const types = wildcard ? ['dns-01' as const] : o.challengeTypes(id);
          const challengeRows: ChallengeRow[] = types
            .map((type) => ({ id: randomId(), authz_id: row.id, type, token: randomBytes(32).toString('base64url'), status: 'pending' as const, validated_at: null, error: null }))
            // The rows just written are the answer, in the order a read would return them.
            .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
          await trx('challenges').insert(challengeRows.map((c) => ({ ...c, attempts: 0 })));
          authorizations.push(authzFromRow(row, challengeRows.map(challengeFromRow)));
        }
        return { order: orderFromRow(orderRow), authorizations };
      });
    },

    async byId(id) {
      const row = await db<OrderRow>('orders').where({ id }).first();
      return row ? orderFromRow(row) : undefined;
    },

    async idsByAccount(accountId, limit, before) {
      let q = db<OrderRow>('orders').where({ account_id: accountId });
      if (before) q = q.andWhere('created_at', '<', before.getTime());
      const rows = await q.orderBy('created_at', 'desc').orderBy('id').limit(limit).select('id', 'created_at');
      return rows.map((r) => ({ id: r.id, createdAt: fromMillis(r.created_at) }));
    },

    async withAuthorizationIds(id) {
      const rows: (OrderRow & { authz_id: string | null })[] = await db('orders as o')
        .leftJoin('authorizations as a', 'a.order_id', 'o.id')
        .where('o.id', id)
        .orderBy('a.identifier_value')
        .select('o.*', 'a.id as authz_id');
      if (rows.length === 0) return undefined;
      return { order: orderFromRow(rows[0]!), authorizationIds: rows.flatMap((r) => (r.authz_id === null ? [] : [r.authz_id])) };
    },

    async authorization(id) {
      // One statement: the authorization joined to its challenges, one row per challenge.
      const rows: (AuthzRow & PrefixedChallengeRow)[] = await db('authorizations as a')
        .leftJoin('challenges as c', 'c.authz_id', 'a.id')
        .where('a.id', id)
        .orderBy('c.type')
        .select('a.*', ...CHALLENGE_COLUMNS.map((col) => `c.${col} as c_${col}`));
      if (rows.length === 0) return undefined;
      const challenges = rows.filter((r) => r.c_id !== null).map((r) => challengeFromRow(unprefixed(r)));
      return authzFromRow(rows[0]!, challenges);
    },

    async authorizationsOf(orderId) {
      return authzWithChallenges(await db<AuthzRow>('authorizations').where({ order_id: orderId }).orderBy('identifier_value'));
    },

    async deactivateAuthorization(id) {
      return db.transaction(async (trx) => {
        const row = await trx<AuthzRow>('authorizations').where({ id }).first();
        if (!row) return false;
        const done = await trx('authorizations').where({ id }).whereIn('status', ['pending', 'valid']).update({ status: 'deactivated' });
        if (done !== 1) return false;
        await trx('orders').where({ id: row.order_id }).whereIn('status', ['pending', 'ready']).update({
          status: 'invalid',
          error: JSON.stringify({ type: 'urn:ietf:params:acme:error:unauthorized', detail: 'an authorization of this order was deactivated' }),
        });
        return true;
      });
    },

    async challenge(id) {
      const row = await db<ChallengeRow>('challenges').where({ id }).first();
      return row ? challengeFromRow(row) : undefined;
    },

    async startChallenge(id) {
      // One statement with its conditions: the authorization still pending and, RFC 8555 s7.1.4, no
      // other challenge of it tried yet (an authorization is decided by the first challenge tried).
      const started = await db('challenges')
        .where({ id, status: 'pending' })
        .whereExists(db('authorizations').where('authorizations.id', db.ref('challenges.authz_id')).where('authorizations.status', 'pending').select(db.raw('1')))
        .whereNotExists(
          db('challenges as other')
            .where('other.authz_id', db.ref('challenges.authz_id'))
            .whereNot('other.id', db.ref('challenges.id'))
            .whereNot('other.status', 'pending')
            .select(db.raw('1')),
        )
        .update({ status: 'processing', lease_until: null });
      return started === 1;
    },

    async countProcessingChallenges() {
      const row = await db('challenges').where({ status: 'processing' }).count<{ n: number | string }[]>({ n: '*' }).first();
      return Number(row?.n ?? 0);
    },

    async claimChallenges(now, leaseMs, limit) {
      const due = db('challenges')
        .where({ status: 'processing' })
        .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now.getTime()))
        .limit(limit)
        .select('id');
      // One statement takes the lease. On pg, SKIP LOCKED lets racing instances each take other
      // challenges instead of queueing for the same ones; SQLite's single writer needs no lock.
      if (isPostgres(db)) due.forUpdate().skipLocked();
      const won: ChallengeRow[] = await db('challenges')
        .whereIn('id', due)
        .update({ lease_until: now.getTime() + leaseMs, attempts: db.raw('attempts + 1') })
        .returning(CHALLENGE_COLUMNS);
      const claimed: ChallengeWork[] = [];
      for (const row of won) {
        const challenge = challengeFromRow(row);
        const authorization = await repo.authorization(challenge.authzId);
        if (authorization) claimed.push({ challenge, authorization, accountId: authorization.accountId });
      }
      return claimed;
    },

    async finishChallenge(id, outcome) {
      await db.transaction(async (trx) => {
        const patch =
          outcome.status === 'valid'
            ? { status: 'valid', validated_at: outcome.validatedAt.getTime(), lease_until: null }
            : { status: 'invalid', error: JSON.stringify(outcome.error), lease_until: null };
        const [done] = await trx('challenges').where({ id, status: 'processing' }).update(patch).returning('authz_id');
        if (!done) return;
        const authz = await trx<AuthzRow>('authorizations').where({ id: done.authz_id }).first();
        if (!authz) return;
        // Two authorizations of one order finishing at once on two instances would each see the
        // other still pending and leave the order pending for good: the order row serialises them.
        await lockOrder(trx, authz.order_id);
        if (outcome.status === 'invalid') {
          await trx('authorizations').where({ id: authz.id, status: 'pending' }).update({ status: 'invalid' });
          await trx('orders').where({ id: authz.order_id }).whereIn('status', ['pending', 'ready']).update({
            status: 'invalid',
            error: JSON.stringify(outcome.error),
          });
          return;
        }
        await trx('authorizations').where({ id: authz.id, status: 'pending' }).update({ status: 'valid' });
        const open = await trx('authorizations').where({ order_id: authz.order_id }).whereNot({ status: 'valid' }).first();
        if (!open) await trx('orders').where({ id: authz.order_id, status: 'pending' }).update({ status: 'ready' });
      });
    },

    async beginFinalize(id, now, until) {
      const token = randomId();
      const patch = { status: 'processing', finalize_token: token, processing_until: until.getTime() };
      const won = await db('orders').where({ id, status: 'ready' }).andWhere('expires_at', '>', now.getTime()).update(patch);
      return won === 1 ? token : undefined;
    },

    async completeFinalize(id, token, certificate) {
      return db.transaction(async (trx) => {
        const held = await trx('orders')
          .where({ id, status: 'processing', finalize_token: token })
          .update({ status: 'valid', certificate_serial: certificate.serial, finalize_token: null, processing_until: null });
        if (held !== 1) return false;
        // Throws on a taken serial, which rolls the order back to processing under this token.
        await certificateRepository(trx).insert(certificate);
        return true;
      });
    },

    async abandonFinalize(id, token) {
      await db('orders').where({ id, status: 'processing', finalize_token: token }).update({ status: 'ready', finalize_token: null, processing_until: null });
    },

    async recoverStalled(now, orderId) {
      const q = db('orders').where({ status: 'processing' }).andWhere('processing_until', '<', now.getTime());
      if (orderId !== undefined) q.andWhere({ id: orderId });
      return q.update({ status: 'ready', finalize_token: null, processing_until: null });
    },

    async expire(now, orderId) {
      const t = now.getTime();
      const authz = db('authorizations').where('expires_at', '<=', t).where({ status: 'pending' });
      const orders = db('orders').where('expires_at', '<=', t).whereIn('status', ['pending', 'ready']);
      if (orderId !== undefined) {
        authz.andWhere({ order_id: orderId });
        orders.andWhere({ id: orderId });
      }
      await authz.update({ status: 'expired' });
      return orders.update({
        status: 'invalid',
        error: JSON.stringify({ type: 'urn:ietf:params:acme:error:malformed', detail: 'the order expired before it was finalized' }),
      });
    },
  };
  return repo;
}

const isPostgres = (db: Knex) => db.client.config.client === 'pg';

/** Takes the order row's write lock for the rest of the transaction (SQLite's one writer needs none). */
async function lockOrder(trx: Knex.Transaction, id: string): Promise<void> {
  if (isPostgres(trx)) await trx('orders').where({ id }).forUpdate().first('id');
}

function orderFromRow(r: OrderRow): Order {
  return {
    id: r.id,
    accountId: r.account_id,
    status: r.status,
    identifiers: JSON.parse(r.identifiers) as Identifier[],
    profile: r.profile,
    notBefore: fromNullableMillis(r.not_before),
    notAfter: fromNullableMillis(r.not_after),
    expiresAt: fromMillis(r.expires_at),
    error: r.error ? (JSON.parse(r.error) as StoredProblem) : null,
    certificateSerial: r.certificate_serial,
    replaces: r.replaces,
    createdAt: fromMillis(r.created_at),
  };
}

function authzFromRow(r: AuthzRow, challenges: Challenge[]): Authorization {
  return {
    id: r.id,
    orderId: r.order_id,
    accountId: r.account_id,
    identifier: { type: r.identifier_type, value: r.identifier_value },
    wildcard: Boolean(r.wildcard),
    status: r.status,
    expiresAt: fromMillis(r.expires_at),
    challenges,
  };
}

function challengeFromRow(r: ChallengeRow): Challenge {
  return {
    id: r.id,
    authzId: r.authz_id,
    type: r.type,
    token: r.token,
    status: r.status,
    validatedAt: fromNullableMillis(r.validated_at),
    error: r.error ? (JSON.parse(r.error) as StoredProblem) : null,
  };
}
