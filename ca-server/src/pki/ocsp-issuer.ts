import type * as asn1js from 'asn1js';
import type * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';

/** CertID hash algorithms answered: SHA-1, which most clients still send (RFC 5019), and SHA-2. */
const CERT_ID_HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

export interface OcspIssuer {
  /** SHA-1 of the CA's public key bits: the byKey ResponderID (RFC 6960 s4.2.2.3). */
  keyHash: asn1js.OctetString;
  /** Whether a request's CertID names this CA as the issuer (RFC 6960 s4.1.1). */
  issued(certId: pkijs.CertID): Promise<boolean>;
}

/** The signing CA as OCSP requests identify it: by hashes of its subject name and of its key bits. */
export async function ocspIssuer(certificate: x509.X509Certificate, engine: pkijs.CryptoEngine): Promise<OcspIssuer> {
  const ca = pkijs.Certificate.fromBER(certificate.rawData);
  const ownIds = new Map<string, Promise<pkijs.CertID>>();
  // The CA's CertID for itself carries exactly the issuer hashes a CertID for any of its certificates has.
  const ownId = (hash: string): Promise<pkijs.CertID> => {
    let id = ownIds.get(hash);
    if (!id) ownIds.set(hash, (id = pkijs.CertID.create(ca, { hashAlgorithm: hash, issuerCertificate: ca }, engine)));
    return id;
  };
  const { issuerKeyHash } = await ownId('SHA-1');
  return {
    keyHash: issuerKeyHash,
    async issued(certId) {
      const hash = CERT_ID_HASHES[certId.hashAlgorithm.algorithmId];
      if (!hash) return false;
      const own = await ownId(hash);
      return sameBytes(own.issuerNameHash, certId.issuerNameHash) && sameBytes(own.issuerKeyHash, certId.issuerKeyHash);
    },
  };
}

function sameBytes(a: asn1js.OctetString, b: asn1js.OctetString): boolean {
  return Buffer.from(a.valueBlock.valueHexView).equals(b.valueBlock.valueHexView);
}
