import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { isIP } from 'node:net';
import { AlgorithmPolicyError, classifyPublicKey, type KeyAlgorithmSpec } from './algorithms.js';
import { cryptoFor } from './crypto.js';
import type { Identifier } from './name-constraints.js';

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
  readonly csr: x509.Pkcs10CertificateRequest;
  readonly keySpec: KeyAlgorithmSpec;
  /** SAN dNSName and iPAddress entries plus a CN that is a host name or address, deduplicated. */
  readonly identifiers: Identifier[];
}

const STRONG_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);
const SUBJECT_ALT_NAME = '2.5.29.17';
export const MAX_CSR_BYTES = 16 * 1024;

/** Parses a CSR, checks its key against the BSI policy and its self-signature, and lists its names. */
export async function checkCsr(input: string | Uint8Array): Promise<CheckedCsr> {
  if (input.length > MAX_CSR_BYTES) throw new CsrError('badCSR', `the CSR is larger than ${MAX_CSR_BYTES} bytes`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(typeof input === 'string' ? input : new Uint8Array(input));
  } catch {
    throw new CsrError('badCSR', 'the CSR is not a PKCS#10 certification request');
  }
  let keySpec: KeyAlgorithmSpec;
  try {
    keySpec = classifyPublicKey(new Uint8Array(csr.publicKey.rawData));
  } catch (err) {
    if (err instanceof AlgorithmPolicyError) throw new CsrError('badPublicKey', err.message);
    throw err;
  }
  const alg = csr.signatureAlgorithm as Algorithm & { hash?: Algorithm };
  if (!alg.hash || !STRONG_HASHES.has(alg.hash.name)) {
    throw new CsrError(
      'badSignatureAlgorithm',
      `the CSR is signed with ${alg.name}${alg.hash ? `/${alg.hash.name}` : ''}; BSI TR-02102-1 requires SHA-256 or stronger`,
    );
  }
  const valid = await csr.verify(cryptoFor(keySpec)).catch(() => false);
  if (!valid) throw new CsrError('badCSR', 'the CSR signature does not verify with its own public key');
  return { csr, keySpec, identifiers: csrIdentifiers(csr) };
}

function csrIdentifiers(csr: x509.Pkcs10CertificateRequest): Identifier[] {
  const found: Identifier[] = [];
  const san = csr.getExtension(SUBJECT_ALT_NAME);
  const items = san instanceof x509.SubjectAlternativeNameExtension ? san.names.items : [];
  for (const item of items) {
    // An address written as a dNSName (older clients do) is still an address.
    if (item.type === 'dns') found.push({ type: isIP(item.value) ? 'ip' : 'dns', value: item.value.toLowerCase() });
    else if (item.type === 'ip') found.push({ type: 'ip', value: item.value });
    else throw new CsrError('badCSR', `the CSR asks for a ${item.type} name; only DNS names and IP addresses are issued`);
  }
  for (const cn of csr.subjectName.getField('CN')) {
    const value = cn.toLowerCase();
    found.push({ type: isIP(value) ? 'ip' : 'dns', value });
  }
  const unique = new Map(found.map((id) => [`${id.type}:${id.value}`, id]));
  return [...unique.values()];
}
