import { issueLeaf, type IssuedLeaf, type LeafRequest } from '../pki/leaf.js';
import { DuplicateSerialError, type NewCertificate, type Store } from '../store/index.js';

export interface RecordContext {
  accountId?: string | null;
  orderId?: string | null;
  deviceId?: string | null;
  replaces?: string | null;
}

/** A random serial that is already stored is signed again under a fresh one, this many times at most. */
const SERIAL_ATTEMPTS = 3;

/**
 * Signs a leaf and records it before anyone sees it: no certificate exists that the store does not
 * know. `record` stores it (finalize stores it together with its order); a serial the store already
 * holds is never handed out: the leaf is discarded and signed again.
 */
export async function issueAndRecord(
  store: Store,
  request: LeafRequest,
  context: RecordContext = {},
  record: (c: NewCertificate) => Promise<void> = (c) => store.certificates.insert(c),
): Promise<IssuedLeaf> {
  for (let attempt = 1; ; attempt++) {
    const leaf = await issueLeaf(request);
    try {
      await record(certificateRecord(leaf, request, context));
      return leaf;
    } catch (err) {
      if (!(err instanceof DuplicateSerialError) || attempt === SERIAL_ATTEMPTS) throw err;
    }
  }
}

function certificateRecord(leaf: IssuedLeaf, request: LeafRequest, context: RecordContext): NewCertificate {
  return {
    serial: leaf.serial,
    profile: request.profile.name,
    subject: leaf.subject,
    identifiers: leaf.identifiers,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    der: leaf.der,
    issuerKeyId: request.ca.keyId,
    spkiSha256: leaf.spkiSha256,
    accountId: context.accountId ?? null,
    orderId: context.orderId ?? null,
    deviceId: context.deviceId ?? null,
    replaces: context.replaces ?? null,
  };
}
