import type { CaSignatureCheck } from '../pki/audit-signature.js';
import type { AuditRepository } from '../store/index.js';
import { entryHash, GENESIS_HASH } from './chain-hash.js';
import { checkpointProblem } from './checkpoint.js';

export type VerifyResult =
  | { ok: true; entries: number; checkpoints: number; lastCheckpointSeq: number }
  | { ok: false; seq: number; problem: string };

const PAGE = 1000;

/**
 * Walks the whole chain in order: every sequence number present, every hash matching its entry's
 * content, every entry chaining to the one before, every checkpoint signing its predecessor with a
 * CA key, and the last entry matching the chain head row. Stops at the first bad entry.
 */
export async function verifyAuditTrail(audit: AuditRepository, check: CaSignatureCheck): Promise<VerifyResult> {
  let prev = { seq: 0, hash: GENESIS_HASH };
  let checkpoints = 0;
  let lastCheckpointSeq = 0;
  for (;;) {
    const page = await audit.chain(prev.seq, PAGE);
    for (const e of page) {
      const expected = prev.seq + 1;
      if (e.seq !== expected) return bad(expected, `missing: entry ${e.seq} follows entry ${prev.seq} (removed)`);
      if (entryHash(e) !== e.hash) return bad(e.seq, 'its content does not match its hash (altered, or moved from another position)');
      if (e.prevHash !== prev.hash) {
        return bad(prev.seq, `entry ${e.seq} chains to another hash: entry ${prev.seq} was altered and re-hashed, or replaced`);
      }
      if (e.type === 'audit.checkpoint') {
        const problem = await checkpointProblem(e.seq, e.prevHash, e.details, check);
        if (problem) return bad(e.seq, problem);
        checkpoints += 1;
        lastCheckpointSeq = e.seq;
      }
      prev = { seq: e.seq, hash: e.hash };
    }
    if (page.length < PAGE) break;
  }
  const head = await audit.head();
  if (head.seq > prev.seq) return bad(prev.seq + 1, `missing: the chain head is entry ${head.seq} but the trail ends at ${prev.seq} (removed)`);
  if (head.seq < prev.seq) return bad(head.seq + 1, `entries after the chain head (${head.seq}) were added outside Wardcert`);
  if (head.hash !== prev.hash) return bad(prev.seq, 'its hash is not the chain head hash (altered and re-hashed, or replaced)');
  return { ok: true, entries: prev.seq, checkpoints, lastCheckpointSeq };
}

function bad(seq: number, problem: string): VerifyResult {
  return { ok: false, seq, problem };
}
