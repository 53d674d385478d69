import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { SigningKey } from './keys.js';
import { randomSerial } from './serial.js';
import type { CheckedCsr } from './csr.js';
import { cryptoFor } from './crypto.js';
import { nameConstraintsExtension, type ConstraintSet } from './name-constraints.js';

const DAY_MS = 86_400_000;
/** Back-dating absorbs clock skew between the CA and the devices that check its certificates. */
export const BACKDATE_MS = 5 * 60_000;

const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

export async function createRootCertificate(key: SigningKey, subject: x509.Name, years: number): Promise<x509.X509Certificate> {
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject,
      issuer: subject,
      notBefore,
      notAfter,
      publicKey: key.publicKey,
      signingKey: key.privateKey,
      signingAlgorithm: key.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
        await x509.SubjectKeyIdentifierExtension.create(key.publicKey, false, key.crypto),
      ],
    },
    key.crypto,
  );
}

export async function createCsr(key: SigningKey, subject: x509.Name): Promise<x509.Pkcs10CertificateRequest> {
  return x509.Pkcs10CertificateRequestGenerator.create(
    { name: subject, keys: { privateKey: key.privateKey, publicKey: key.publicKey }, signingAlgorithm: key.signingAlgorithm },
    key.crypto,
  );
}

export interface IntermediateOptions {
  days: number;
  constraints: ConstraintSet;
  crlUrl?: string | undefined;
}

export class IssuanceError extends Error {
  override readonly name = 'IssuanceError';
}

/** The root signs an issuing CA: pathLen 0, so it can sign only end-entity certificates. */
export async function signIntermediate(
  request: CheckedCsr,
  root: { cert: x509.X509Certificate; key: SigningKey },
  opts: IntermediateOptions,
): Promise<x509.X509Certificate> {
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(notBefore.getTime() + opts.days * DAY_MS);
  if (notAfter > root.cert.notAfter) {
    const left = Math.floor((root.cert.notAfter.getTime() - notBefore.getTime()) / DAY_MS);
    throw new IssuanceError(`--days ${opts.days} would outlive the root (valid until ${root.cert.notAfter.toISOString()}); use at most ${left}`);
  }
  const publicKey = new x509.PublicKey(request.publicKey);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
    authorityKeyId(root.cert),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, cryptoFor(request.keySpec)),
  ];
  if (opts.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([opts.crlUrl]));
  const constraints = nameConstraintsExtension(opts.constraints);
  if (constraints) extensions.push(constraints);
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: new x509.Name(request.subject),
      issuer: root.cert.subjectName,
      notBefore,
      notAfter,
      publicKey,
      signingKey: root.key.privateKey,
      signingAlgorithm: root.key.signingAlgorithm,
      extensions,
    },
    root.key.crypto,
  );
}

/** AKI taken from the issuer's own SKI, so chains link by key identifier. */
export function authorityKeyId(issuer: x509.X509Certificate): x509.AuthorityKeyIdentifierExtension {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new IssuanceError(`issuer ${issuer.subject} has no subject key identifier`);
  return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
}
