import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension, Name as AsnName, type AlgorithmIdentifier } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { authorityKeyId } from './ca-certificates.js';
import { signWith } from './crypto.js';
import type { SigningKey } from './keys.js';

/** What everything one issuer signs through @peculiar/asn1-x509 (leaves, CRLs) shares, taken from its certificate and key once. */
export interface IssuerParts {
  readonly name: AsnName;
  /** As @peculiar/x509's generators write it: ecdsa-with-SHA* without parameters, RSASSA-PSS with them. */
  readonly algorithm: AlgorithmIdentifier;
  readonly aki: Extension;
  /** The issuer's certificate, PEM, for the chains handed out. */
  readonly pem: string;
}

const issuers = new WeakMap<x509.X509Certificate, IssuerParts>();

export function issuerParts(cert: x509.X509Certificate, key: SigningKey): IssuerParts {
  let parts = issuers.get(cert);
  if (!parts) {
    parts = {
      name: AsnConvert.parse(cert.subjectName.toArrayBuffer(), AsnName),
      algorithm: new x509.AlgorithmProvider().toAsnAlgorithm({ ...key.signingAlgorithm, ...key.privateKey.algorithm }),
      aki: AsnConvert.parse(authorityKeyId(cert).rawData, Extension),
      pem: cert.toString('pem'),
    };
    issuers.set(cert, parts);
  }
  return parts;
}

/** An extension whose value is an @peculiar/asn1-x509 structure. */
export function asnExtension(extnID: string, value: object, critical = false): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** The signature over a to-be-signed structure, as X.509 carries it (DER ECDSA-Sig-Value, or RSA-PSS as is). */
export function signStructure(key: SigningKey, tbs: object): ArrayBuffer {
  return new Uint8Array(signWith(key.keyObject, key.spec, new Uint8Array(AsnConvert.serialize(tbs)))).buffer;
}
