import { z } from 'zod';
import { signWithCa, type CaSignatureCheck } from '../pki/audit-signature.js';
import type { IssuingCa } from '../pki/issuing-ca.js';
import type { CheckpointPolicy, NewAuditEntry } from '../store/index.js';
import { localSource, systemActor } from './actors.js';

/** A signed checkpoint every this many entries unless the config says otherwise. */
export const DEFAULT_CHECKPOINT_EVERY = 1000;

interface Head {
  seq: number;
  hash: string;
}

/** The bytes a checkpoint signs: a fixed label, so the signature means nothing in another context. */
function signedBytes(head: Head): Uint8Array {
  return new TextEncoder().encode(`wardcert-audit-checkpoint\n${head.seq}\n${head.hash}`);
}

async function checkpointEntry(ca: IssuingCa, head: Head, now: Date): Promise<NewAuditEntry> {
  const sig = await signWithCa(ca, signedBytes(head));
  return {
    type: 'audit.checkpoint',
    outcome: 'success',
    actor: systemActor(),
    source: localSource(),
    subject: { kind: 'audit', id: String(head.seq) },
    details: { headSeq: head.seq, headHash: head.hash, keyId: sig.keyId, signature: sig.signature },
    at: now,
  };
}

/** A checkpoint once `every` entries follow the last one. */
export function everyNEntries(ca: IssuingCa, every: number, now: () => Date = () => new Date()): CheckpointPolicy {
  return { due: (since) => since >= every, sign: (head) => checkpointEntry(ca, head, now()) };
}

/** A checkpoint now, unless the newest entry is one (shutdown). */
export function checkpointUnlessSigned(ca: IssuingCa, now: () => Date = () => new Date()): CheckpointPolicy {
  return { due: (since) => since > 0, sign: (head) => checkpointEntry(ca, head, now()) };
}

const checkpointDetails = z.object({
  headSeq: z.number().int(),
  headHash: z.string(),
  keyId: z.string(),
  signature: z.string(),
});

/**
 * What is wrong with a stored checkpoint at `seq` whose predecessor hashes to `prevHash`, or
 * undefined when it signs exactly that predecessor with a CA key of the data directory.
 */
export async function checkpointProblem(seq: number, prevHash: string, detailsJson: string | null, check: CaSignatureCheck): Promise<string | undefined> {
  let parsed;
  try {
    parsed = checkpointDetails.safeParse(JSON.parse(detailsJson ?? 'null'));
  } catch {
    return 'checkpoint details are not JSON';
  }
  if (!parsed.success) return 'checkpoint details lack headSeq, headHash, keyId or signature';
  const d = parsed.data;
  if (d.headSeq !== seq - 1 || d.headHash !== prevHash) return `checkpoint signs entry ${d.headSeq} with hash ${d.headHash}, not the entry before it`;
  const problem = await check(signedBytes({ seq: d.headSeq, hash: d.headHash }), { keyId: d.keyId, signature: d.signature });
  return problem && `checkpoint signature is wrong: ${problem}`;
}
