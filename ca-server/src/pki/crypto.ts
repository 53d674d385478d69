import 'reflect-metadata';
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import * as x509 from '@peculiar/x509';
import type { KeyAlgorithmSpec } from './algorithms.js';

// Node's WebCrypto lacks the Brainpool curves that BSI TR-02102 allows; @peculiar/webcrypto has them.
const peculiar = new PeculiarCrypto() as unknown as Crypto;

// @peculiar/x509 converts raw ECDSA signatures to DER by curve size and only knows the NIST curves.
x509.AsnEcSignatureFormatter.namedCurveSize.set('brainpoolP256r1', 32);
x509.AsnEcSignatureFormatter.namedCurveSize.set('brainpoolP384r1', 48);
x509.AsnEcSignatureFormatter.namedCurveSize.set('brainpoolP512r1', 64);

export function cryptoFor(spec: KeyAlgorithmSpec): Crypto {
  return spec.curve?.startsWith('brainpool') ? peculiar : globalThis.crypto;
}

/** WebCrypto import parameters for a key of this algorithm, as used for signing. */
export function importParams(spec: KeyAlgorithmSpec): EcKeyImportParams | RsaHashedImportParams {
  return spec.kind === 'ec'
    ? { name: 'ECDSA', namedCurve: spec.curve! }
    : { name: 'RSA-PSS', hash: spec.hash };
}

/**
 * The signature algorithm a CA key of this kind uses. RSA signs with PSS: BSI TR-02102 no longer
 * recommends PKCS#1 v1.5 signatures.
 */
export function signingAlgorithm(spec: KeyAlgorithmSpec): EcdsaParams | RsaPssParams {
  return spec.kind === 'ec'
    ? { name: 'ECDSA', hash: spec.hash }
    : { name: 'RSA-PSS', saltLength: hashLength(spec.hash) };
}

function hashLength(hash: string): number {
  return hash === 'SHA-512' ? 64 : hash === 'SHA-384' ? 48 : 32;
}
