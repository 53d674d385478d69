import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { issueAndRecord } from '../ca/issue-and-record.js';
import { keyAlgorithmSpec } from '../pki/algorithms.js';
import { createCsr } from '../pki/ca-certificates.js';
import { checkCsr } from '../pki/csr.js';
import { PUBLIC_MODE, writeFileAtomic } from '../pki/files.js';
import type { IssuingCa } from '../pki/issuing-ca.js';
import { generateKey, toSigningKey } from '../pki/keys.js';
import type { Profile } from '../pki/profiles.js';
import type { Store } from '../store/index.js';
import * as x509 from '@peculiar/x509';

export interface OwnCertificate {
  key: string;
  cert: string;
  notAfter: Date;
  serial: string;
}

/**
 * The CA's own HTTPS certificate under the ca-tls profile. Its key is made fresh in memory each time
 * and never written: a restart or a renewal simply makes another.
 */
export async function issueOwnCertificate(o: {
  store: Store;
  ca: IssuingCa;
  profile: Profile;
  names: string[];
  httpBase: string | undefined;
  certFile: string;
}): Promise<OwnCertificate> {
  const keyObject = await generateKey(keyAlgorithmSpec('ecdsa-p256'));
  const signing = await toSigningKey(keyObject);
  const csr = await createCsr(signing, new x509.Name([{ CN: [o.names[0]!] }]));
  const checked = await checkCsr(new Uint8Array(csr.rawData));
  const identifiers = o.names.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n.toLowerCase() }));
  const leaf = await issueAndRecord(o.store, { ca: o.ca, profile: o.profile, request: { ...checked, identifiers }, httpBase: o.httpBase });
  await writeFileAtomic(o.certFile, leaf.chainPem, { mode: PUBLIC_MODE, replace: true });
  return {
    key: keyObject.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: leaf.chainPem,
    notAfter: leaf.notAfter,
    serial: leaf.serial,
  };
}

/** Renews at two thirds of the lifetime, as any ACME client should; the timer does not keep the process alive. */
export function scheduleOwnRenewal(
  first: OwnCertificate,
  renew: () => Promise<OwnCertificate>,
  apply: (c: OwnCertificate) => void,
  logger: Logger,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const plan = (current: OwnCertificate, issuedAt: number) => {
    const delay = Math.max(60_000, ((current.notAfter.getTime() - issuedAt) * 2) / 3);
    timer = setTimeout(async () => {
      try {
        const next = await renew();
        apply(next);
        logger.info({ event: 'server.tlsRenewed', serial: next.serial, notAfter: next.notAfter.toISOString() }, 'renewed the server TLS certificate');
        plan(next, Date.now());
      } catch (err) {
        logger.error({ err }, 'could not renew the server TLS certificate; retrying in a minute');
        plan({ ...current, notAfter: new Date(Date.now() + 90_000) }, Date.now());
      }
    }, Math.min(delay, 2 ** 31 - 1));
    timer.unref();
  };
  plan(first, Date.now());
  return () => clearTimeout(timer);
}
