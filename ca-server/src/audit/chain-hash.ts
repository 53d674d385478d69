import { createHash } from 'node:crypto';

/** What the first entry chains to: 32 zero bytes, hex. */
export const GENESIS_HASH = '0'.repeat(64);

/** Every field of a stored entry, column by column, as the hash sees it. `details` is the stored JSON text. */
export interface HashedFields {
  seq: number;
  atMs: number;
  type: string;
  outcome: string;
  actorKind: string;
  actorId: string;
  actorName: string | null;
  source: string | null;
  subjectKind: string | null;
  subjectId: string | null;
  details: string | null;
  prevHash: string;
}

/**
 * Version tag first, then every field in a fixed order, absent ones as null: a JSON array of
 * primitives has exactly one encoding, so the same fields always give the same hash.
 */
export function entryHash(f: HashedFields): string {
  const encoded = JSON.stringify([
    'wardcert-audit-v1',
    f.seq,
    f.atMs,
    f.type,
    f.outcome,
    f.actorKind,
    f.actorId,
    f.actorName,
    f.source,
    f.subjectKind,
    f.subjectId,
    f.details,
    f.prevHash,
  ]);
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** Details as JSON with keys sorted, so the stored text does not depend on the order a caller wrote them. */
export function canonicalDetails(details: Record<string, unknown> | undefined): string | null {
  if (details === undefined) return null;
  const sorted = Object.fromEntries(Object.keys(details).sort().map((k) => [k, details[k]]));
  return JSON.stringify(sorted);
}
