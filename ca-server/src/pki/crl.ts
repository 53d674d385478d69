import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import type { SigningKey } from './keys.js';
import { authorityKeyId } from './ca-certificates.js';

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

/** A v2 CRL with CRL number and AKI, as RFC 5280 s5 requires of a conforming CA. */
export async function signCrl(p: CrlParams): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create(
    {
      issuer: p.issuer.subjectName,
      thisUpdate: p.thisUpdate,
      nextUpdate: p.nextUpdate,
      entries: p.entries.map((e) => ({
        serialNumber: e.serial,
        revocationDate: e.revokedAt,
        ...(e.reason ? { reason: e.reason } : {}),
      })),
      extensions: [
        authorityKeyId(p.issuer),
        new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(Number(p.number)))),
      ],
      signingKey: p.key.privateKey,
      signingAlgorithm: p.key.signingAlgorithm,
    },
    p.key.crypto,
  );
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
