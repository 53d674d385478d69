import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

export interface ChallengeCertSpec {
  /** The subjectAltName entries, e.g. [{ type: 'dns', value: 'a.test' }]; [] leaves the extension out. */
  names: x509.JsonGeneralNames;
  /** SHA-256 of the key authorization; undefined leaves the acmeIdentifier extension out. */
  digest?: Uint8Array<ArrayBuffer>;
  /** Defaults to true, as RFC 8737 requires. */
  critical?: boolean;
  /** Overrides the DER the extension holds, for malformed values. */
  rawValue?: Uint8Array<ArrayBuffer>;
}

/** A self-signed ECDSA P-256 tls-alpn-01 challenge certificate with its key, both PEM, for a Node TLS server. */
export async function challengeCert(spec: ChallengeCertSpec): Promise<{ cert: string; key: string }> {
  const crypto = webcrypto as unknown as Crypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const extensions: x509.Extension[] = [];
  if (spec.names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(spec.names));
  if (spec.digest !== undefined || spec.rawValue !== undefined) {
    const value = spec.rawValue ?? new Uint8Array(AsnConvert.serialize(new OctetString(spec.digest!)));
    extensions.push(new x509.Extension(ACME_IDENTIFIER_OID, spec.critical ?? true, value));
  }
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=ACME challenge',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys,
      signingAlgorithm: alg,
      extensions,
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
