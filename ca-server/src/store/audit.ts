import type { Knex } from 'knex';
import { canonicalDetails, entryHash, type HashedFields } from '../audit/chain-hash.js';
import type { AuditEvent, AuditEventType } from '../audit/event.js';
import { fromMillis, toCount, toMillis, type Millis } from './columns.js';

/** An event with the time it happened, ready to be appended. */
export interface NewAuditEntry extends AuditEvent {
  at: Date;
}

export interface AuditEntry extends NewAuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** An entry column by column as stored, uninterpreted, for the verifier. */
export interface StoredAuditEntry extends HashedFields {
  hash: string;
}

export interface AuditHead {
  /** 0 while the trail is empty. */
  seq: number;
  hash: string;
  /** The newest checkpoint entry's sequence number, 0 before the first. */
  checkpointSeq: number;
}

export interface CheckpointPolicy {
  /** True when a checkpoint is due, given how many entries follow the last one. */
  due(entriesSinceCheckpoint: number): boolean;
  /** The checkpoint entry that signs `head` (the entry it will follow). */
  sign(head: { seq: number; hash: string }): Promise<NewAuditEntry>;
}

/** Filters of the audit view; every one optional. Newest first. */
export interface AuditQuery {
  /** At or after. */
  from?: Date;
  /** Strictly before. */
  to?: Date;
  types?: AuditEventType[];
  outcome?: AuditEvent['outcome'];
  /** An actor's id or name. */
  actor?: string;
  /** A subject's id (serial, account id, device id...). */
  subject?: string;
  /** Keyset paging: only entries older than this sequence number (the last one of the previous page). */
  beforeSeq?: number;
  /** Default 50, at most 1000. */
  limit?: number;
}

export interface AuditRepository {
  /**
   * Appends the entries in order, in one transaction holding the chain head, and a checkpoint where
   * `checkpoint` says one is due. Resolves with what was stored (checkpoints included).
   */
  append(entries: NewAuditEntry[], checkpoint?: CheckpointPolicy): Promise<AuditEntry[]>;
  list(q?: AuditQuery): Promise<AuditEntry[]>;
  /** Entries in chain order with seq > afterSeq, as stored, for verification. */
  chain(afterSeq: number, limit: number): Promise<StoredAuditEntry[]>;
  head(): Promise<AuditHead>;
}

/** The stored details JSON may not exceed this; the recorder bounds details well below it. */
export const MAX_DETAILS_BYTES = 8192;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;

interface EntryRow {
  seq: number | string;
  at: Millis;
  type: string;
  outcome: string;
  actor_kind: string;
  actor_id: string;
  actor_name: string | null;
  source: string | null;
  subject_kind: string | null;
  subject_id: string | null;
  details: string | null;
  prev_hash: string;
  hash: string;
}

interface HeadRow {
  id: number;
  seq: number | string;
  hash: string;
  checkpoint_seq: number | string;
}

export function auditRepository(db: Knex, dialect: 'sqlite' | 'postgres'): AuditRepository {
  return {
    async append(entries, checkpoint) {
      return db.transaction(async (trx) => {
        const head = await lockHead(trx, dialect);
        const stored: AuditEntry[] = [];
        const add = async (entry: NewAuditEntry) => {
          const row = chainedRow(entry, head.seq + 1, head.hash);
          await trx('audit_entries').insert(row);
          head.seq += 1;
          head.hash = row.hash;
          if (entry.type === 'audit.checkpoint') head.checkpointSeq = head.seq;
          stored.push(fromRow(row));
        };
        const checkpointIfDue = async () => {
          if (checkpoint?.due(head.seq - head.checkpointSeq)) await add(await checkpoint.sign({ seq: head.seq, hash: head.hash }));
        };
        for (const entry of entries) {
          await add(entry);
          await checkpointIfDue();
        }
        if (entries.length === 0) await checkpointIfDue();
        if (stored.length > 0) {
          await trx('audit_head').where({ id: 1 }).update({ seq: head.seq, hash: head.hash, checkpoint_seq: head.checkpointSeq });
        }
        return stored;
      });
    },

    async list(q = {}) {
      const limit = Math.min(toCount('limit', q.limit ?? DEFAULT_PAGE), MAX_PAGE);
      const query = db<EntryRow>('audit_entries').orderBy('seq', 'desc').limit(limit);
      if (q.from) query.where('at', '>=', toMillis(q.from));
      if (q.to) query.where('at', '<', toMillis(q.to));
      if (q.types?.length) query.whereIn('type', q.types);
      if (q.outcome) query.where('outcome', q.outcome);
      if (q.actor !== undefined) query.where((w) => w.where('actor_id', q.actor!).orWhere('actor_name', q.actor!));
      if (q.subject !== undefined) query.where('subject_id', q.subject);
      if (q.beforeSeq !== undefined) query.where('seq', '<', toCount('beforeSeq', q.beforeSeq));
      return (await query).map(fromRow);
    },

    async chain(afterSeq, limit) {
      const rows = await db<EntryRow>('audit_entries')
        .where('seq', '>', toCount('afterSeq', afterSeq))
        .orderBy('seq')
        .limit(toCount('limit', limit));
      return rows.map((row) => ({ ...hashedFields(row), hash: row.hash }));
    },

    async head() {
      const row = await db<HeadRow>('audit_head').where({ id: 1 }).first();
      return toHead(row!);
    },
  };
}

/**
 * Takes the chain head for this transaction. On PostgreSQL the row lock (SELECT ... FOR UPDATE)
 * makes appends of every instance wait for each other; on SQLite a no-op write first turns the
 * transaction into the database's single write transaction before anything is read, so another
 * process waits (busy_timeout) instead of reading a head that is about to change; its RETURNING
 * reads the head in that same statement.
 */
async function lockHead(trx: Knex.Transaction, dialect: 'sqlite' | 'postgres'): Promise<AuditHead> {
  if (dialect === 'postgres') return toHead((await trx<HeadRow>('audit_head').where({ id: 1 }).first().forUpdate())!);
  const [row] = await trx<HeadRow>('audit_head').where({ id: 1 }).update({ id: 1 }).returning(['id', 'seq', 'hash', 'checkpoint_seq']);
  return toHead(row as HeadRow);
}

function toHead(row: HeadRow): AuditHead {
  return { seq: Number(row.seq), hash: row.hash, checkpointSeq: Number(row.checkpoint_seq) };
}

function chainedRow(e: NewAuditEntry, seq: number, prevHash: string): EntryRow {
  const details = canonicalDetails(e.details);
  if (details !== null && Buffer.byteLength(details) > MAX_DETAILS_BYTES) {
    throw new RangeError(`audit details of ${e.type} exceed ${MAX_DETAILS_BYTES} bytes`);
  }
  const row: Omit<EntryRow, 'hash'> = {
    seq,
    at: toMillis(e.at),
    type: e.type,
    outcome: e.outcome,
    actor_kind: e.actor.kind,
    actor_id: e.actor.id,
    actor_name: e.actor.name ?? null,
    source: e.source ?? null,
    subject_kind: e.subject?.kind ?? null,
    subject_id: e.subject?.id ?? null,
    details,
    prev_hash: prevHash,
  };
  return { ...row, hash: entryHash(hashedFields(row)) };
}

function hashedFields(row: Omit<EntryRow, 'hash'>): HashedFields {
  return {
    seq: Number(row.seq),
    atMs: Number(row.at),
    type: row.type,
    outcome: row.outcome,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    actorName: row.actor_name,
    source: row.source,
    subjectKind: row.subject_kind,
    subjectId: row.subject_id,
    details: row.details,
    prevHash: row.prev_hash,
  };
}

function fromRow(row: EntryRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: fromMillis(row.at),
    type: row.type as AuditEventType,
    outcome: row.outcome as AuditEvent['outcome'],
    actor: { kind: row.actor_kind as AuditEvent['actor']['kind'], id: row.actor_id, ...(row.actor_name !== null ? { name: row.actor_name } : {}) },
    ...(row.source !== null ? { source: row.source } : {}),
    ...(row.subject_kind !== null && row.subject_id !== null
      ? { subject: { kind: row.subject_kind as NonNullable<AuditEvent['subject']>['kind'], id: row.subject_id } }
      : {}),
    ...(row.details !== null ? { details: JSON.parse(row.details) as AuditEvent['details'] } : {}),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
