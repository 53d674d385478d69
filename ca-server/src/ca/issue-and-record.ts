import { issueLeaf, type IssuedLeaf, type LeafRequest } from '../pki/leaf.js';
import type { Store } from '../store/index.js';

export interface RecordContext {
  accountId?: string | null;
  orderId?: string | null;
  deviceId?: string | null;
  replaces?: string | null;
}

/** Signs a leaf and records it before anyone sees it: no certificate exists that the store does not know. */
export async function issueAndRecord(store: Store, request: LeafRequest, context: RecordContext = {}): Promise<IssuedLeaf> {
  const leaf = await issueLeaf(request);
  await store.certificates.insert({
    serial: leaf.serial,
    profile: request.profile.name,
    subject: leaf.cert.subject,
    identifiers: leaf.identifiers,
    notBefore: leaf.cert.notBefore,
    notAfter: leaf.cert.notAfter,
    der: new Uint8Array(leaf.cert.rawData),
    issuerKeyId: request.ca.keyId,
    spkiSha256: leaf.spkiSha256,
    accountId: context.accountId ?? null,
    orderId: context.orderId ?? null,
    deviceId: context.deviceId ?? null,
    replaces: context.replaces ?? null,
  });
  return leaf;
}
