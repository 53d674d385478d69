import 'reflect-metadata';
import {
  CRLNumber,
  CRLReason,
  CertificateList,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import type { SigningKey } from './keys.js';
import { asnExtension, issuerParts, signStructure } from './issuer-parts.js';

export interface RevokedEntry {
  /** Lowercase hex serial. */
  serial: string;
  revokedAt: Date;
  /** RFC 5280 CRLReason code; 0 (unspecified) is left out of the entry as RFC 5280 recommends. */
  reason: number;
}

export interface CrlParams {
  issuer: x509.X509Certificate;
  key: SigningKey;
  number: bigint;
  entries: readonly RevokedEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * A v2 CRL with CRL number and AKI, as RFC 5280 s5 requires of a conforming CA. Built through
 * @peculiar/asn1-x509 rather than X509CrlGenerator, whose duplicate check compares every entry
 * with every earlier one: signing here grows linearly with the revocations.
 */
export async function signCrl(p: CrlParams): Promise<x509.X509Crl> {
  const revoked = revokedCertificates(p.entries);
  const issuer = issuerParts(p.issuer, p.key);
  const tbsCertList = new TBSCertList({
    version: Version.v2,
    signature: issuer.algorithm,
    issuer: issuer.name,
    thisUpdate: new Time(p.thisUpdate),
    nextUpdate: new Time(p.nextUpdate),
    // RFC 5280 s5.1.2.6: an empty list is left out, not encoded as an empty SEQUENCE.
    ...(revoked.length ? { revokedCertificates: revoked } : {}),
    crlExtensions: [issuer.aki, asnExtension(id_ce_cRLNumber, new CRLNumber(Number(p.number)))],
  });
  const crl = new CertificateList({ tbsCertList, signatureAlgorithm: issuer.algorithm, signature: signStructure(p.key, tbsCertList) });
  // From the structure, not its DER: parsing our own bytes again would cost as much and hit asn1js's node limit.
  return new x509.X509Crl(crl);
}

/**
 * One entry per serial, the first: the store holds none twice, so this guards, once, with a Set of
 * the encoded serials (as the DER will carry them, whatever zero padding the hex had).
 */
function revokedCertificates(entries: readonly RevokedEntry[]): RevokedCertificate[] {
  const seen = new Set<string>();
  const revoked: RevokedCertificate[] = [];
  for (const e of entries) {
    const serial = positiveInteger(e.serial);
    const key = Buffer.from(serial).toString('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    revoked.push(new RevokedCertificate({
      userCertificate: serial,
      revocationDate: new Time(e.revokedAt),
      ...(e.reason ? { crlEntryExtensions: [asnExtension(id_ce_cRLReasons, new CRLReason(e.reason))] } : {}),
    }));
  }
  return revoked;
}

/** INTEGER content octets of a hex serial: no redundant leading zeros, a 0x00 before a high bit. */
function positiveInteger(hex: string): ArrayBuffer {
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const digits = bytes.subarray(start);
  const octets = digits.length && digits[0]! <= 0x7f ? digits : Buffer.concat([Buffer.from([0]), digits]);
  return new Uint8Array(octets).buffer;
}

/** CRLReason names as operators type them, mapped to RFC 5280 codes (7 is unused by the standard). */
export const REVOCATION_REASONS: Record<string, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};
