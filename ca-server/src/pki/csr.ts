import 'reflect-metadata';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { id_ecdsaWithSHA256, id_ecdsaWithSHA384, id_ecdsaWithSHA512 } from '@peculiar/asn1-ecc';
import {
  RsaSaPssParams,
  id_RSASSA_PSS,
  id_sha256,
  id_sha256WithRSAEncryption,
  id_sha384,
  id_sha384WithRSAEncryption,
  id_sha512,
  id_sha512WithRSAEncryption,
} from '@peculiar/asn1-rsa';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Extensions,
  SubjectAlternativeName,
  id_ce_subjectAltName,
  type AlgorithmIdentifier,
  type GeneralName,
  type Name,
  type SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { constants, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AlgorithmPolicyError, readPublicKey, type HashName, type KeyAlgorithmSpec } from './algorithms.js';
import { nodeDigest } from './crypto.js';
import type { Identifier } from './name-constraints.js';
import { COMMON_NAME } from './subject.js';

/** Why a CSR was refused, in the terms of the RFC 8555 error types it maps to. */
export type CsrProblem = 'badCSR' | 'badPublicKey' | 'badSignatureAlgorithm';

export class CsrError extends Error {
  override readonly name = 'CsrError';
  constructor(
    readonly problem: CsrProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface CheckedCsr {
  /** The subject's key as the CSR carries it: parsed, and as DER. */
  readonly publicKey: SubjectPublicKeyInfo;
  readonly spki: Uint8Array<ArrayBuffer>;
  readonly subject: Name;
  readonly keySpec: KeyAlgorithmSpec;
  /** SAN dNSName and iPAddress entries plus a CN that is a host name or address, deduplicated. */
  readonly identifiers: Identifier[];
}

/** A signature algorithm the CSR may use: BSI TR-02102-1 hashes, ECDSA or RSA (PKCS#1 v1.5 or PSS). */
interface CsrSignature {
  kind: KeyAlgorithmSpec['kind'];
  hash: HashName;
  /** RSASSA-PSS only: the salt length its parameters name. */
  saltLength?: number;
}

const SIGNATURES: Record<string, CsrSignature> = {
  [id_ecdsaWithSHA256]: { kind: 'ec', hash: 'SHA-256' },
  [id_ecdsaWithSHA384]: { kind: 'ec', hash: 'SHA-384' },
  [id_ecdsaWithSHA512]: { kind: 'ec', hash: 'SHA-512' },
  [id_sha256WithRSAEncryption]: { kind: 'rsa', hash: 'SHA-256' },
  [id_sha384WithRSAEncryption]: { kind: 'rsa', hash: 'SHA-384' },
  [id_sha512WithRSAEncryption]: { kind: 'rsa', hash: 'SHA-512' },
};
const PSS_HASHES: Record<string, HashName> = { [id_sha256]: 'SHA-256', [id_sha384]: 'SHA-384', [id_sha512]: 'SHA-512' };

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const MS_GUID = '1.3.6.1.4.1.311.25.1';
const MS_UPN = '1.3.6.1.4.1.311.20.2.3';
export const MAX_CSR_BYTES = 16 * 1024;

/** Parses a CSR, checks its key against the BSI policy and its self-signature, and lists its names. */
export async function checkCsr(input: string | Uint8Array): Promise<CheckedCsr> {
  if (input.length > MAX_CSR_BYTES) throw new CsrError('badCSR', `the CSR is larger than ${MAX_CSR_BYTES} bytes`);
  let csr: CertificationRequest;
  try {
    // PEM, DER, hex or base64, as @peculiar/x509 reads a request.
    csr = AsnConvert.parse(x509.PemData.toArrayBuffer(typeof input === 'string' ? input : new Uint8Array(input)), CertificationRequest);
  } catch {
    throw new CsrError('badCSR', 'the CSR is not a PKCS#10 certification request');
  }
  const info = csr.certificationRequestInfo;
  const spki = new Uint8Array(AsnConvert.serialize(info.subjectPKInfo));
  let key: KeyObject;
  let keySpec: KeyAlgorithmSpec;
  try {
    ({ key, spec: keySpec } = readPublicKey(spki));
  } catch (err) {
    if (err instanceof AlgorithmPolicyError) throw new CsrError('badPublicKey', err.message);
    throw err;
  }
  const signature = csrSignature(csr.signatureAlgorithm);
  if (!signature) {
    throw new CsrError('badSignatureAlgorithm', `the CSR is signed with ${algorithmLabel(csr.signatureAlgorithm)}; BSI TR-02102-1 requires SHA-256 or stronger`);
  }
  if (!verifies(csr, signature, key, keySpec)) throw new CsrError('badCSR', 'the CSR signature does not verify with its own public key');
  return { publicKey: info.subjectPKInfo, spki, subject: info.subject, keySpec, identifiers: csrIdentifiers(csr) };
}

function csrSignature(alg: AlgorithmIdentifier): CsrSignature | undefined {
  if (alg.algorithm !== id_RSASSA_PSS) return SIGNATURES[alg.algorithm];
  if (!alg.parameters) return undefined;
  let params: RsaSaPssParams;
  try {
    params = AsnConvert.parse(alg.parameters, RsaSaPssParams);
  } catch {
    return undefined;
  }
  const hash = PSS_HASHES[params.hashAlgorithm.algorithm];
  // MGF1 goes with the same hash in node:crypto, as in WebCrypto: another one fails to verify.
  return hash && { kind: 'rsa', hash, saltLength: params.saltLength };
}

/** A refused algorithm named as @peculiar/x509 names it ("ECDSA/SHA-1", "RSA-PSS", or its OID). */
function algorithmLabel(alg: AlgorithmIdentifier): string {
  let web: Algorithm & { hash?: Algorithm };
  try {
    web = new x509.AlgorithmProvider().toWebAlgorithm(alg);
  } catch {
    return alg.algorithm === id_RSASSA_PSS ? 'RSA-PSS' : alg.algorithm;
  }
  return `${web.name}${web.hash ? `/${web.hash.name}` : ''}`;
}

function verifies(csr: CertificationRequest, signature: CsrSignature, key: KeyObject, spec: KeyAlgorithmSpec): boolean {
  if (signature.kind !== spec.kind || !csr.certificationRequestInfoRaw) return false;
  const options = signature.saltLength === undefined ? { key } : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: signature.saltLength };
  try {
    // ECDSA signatures are DER in a CSR, which is what node:crypto expects.
    return verify(nodeDigest(signature.hash), new Uint8Array(csr.certificationRequestInfoRaw), options, new Uint8Array(csr.signature));
  } catch {
    return false;
  }
}

function csrIdentifiers(csr: CertificationRequest): Identifier[] {
  const found: Identifier[] = [];
  for (const name of subjectAltNames(csr)) {
    // An address written as a dNSName (older clients do) is still an address.
    if (name.dNSName !== undefined) found.push({ type: isIP(name.dNSName) ? 'ip' : 'dns', value: name.dNSName.toLowerCase() });
    else if (name.iPAddress !== undefined) found.push({ type: 'ip', value: name.iPAddress });
    else {
      const type = otherType(name);
      if (type) throw new CsrError('badCSR', `the CSR asks for a ${type} name; only DNS names and IP addresses are issued`);
    }
  }
  for (const rdn of csr.certificationRequestInfo.subject) {
    for (const attr of rdn) {
      if (attr.type !== COMMON_NAME) continue;
      const value = attr.value.toString().toLowerCase();
      found.push({ type: isIP(value) ? 'ip' : 'dns', value });
    }
  }
  const unique = new Map(found.map((id) => [`${id.type}:${id.value}`, id]));
  return [...unique.values()];
}

/** The SAN of the first extensionRequest attribute, read once. */
function subjectAltNames(csr: CertificationRequest): GeneralName[] {
  const attr = csr.certificationRequestInfo.attributes.find((a) => a.type === EXTENSION_REQUEST);
  if (!attr?.values[0]) return [];
  let names: GeneralName[] = [];
  try {
    const san = AsnConvert.parse(attr.values[0], Extensions).find((e) => e.extnID === id_ce_subjectAltName);
    if (san) names = [...AsnConvert.parse(san.extnValue.buffer, SubjectAlternativeName)];
  } catch {
    throw new CsrError('badCSR', 'the CSR carries an extension request that cannot be parsed');
  }
  return names;
}

/**
 * How @peculiar/x509 names the SAN types that are refused; names it cannot read (x400Address,
 * ediPartyName, other otherNames) it skips, and so do we.
 */
function otherType(name: GeneralName): string | undefined {
  if (name.rfc822Name !== undefined) return 'email';
  if (name.uniformResourceIdentifier !== undefined) return 'url';
  if (name.registeredID !== undefined) return 'id';
  if (name.directoryName !== undefined) return 'dn';
  if (name.otherName?.typeId === MS_GUID) return 'guid';
  if (name.otherName?.typeId === MS_UPN) return 'upn';
  return undefined;
}
