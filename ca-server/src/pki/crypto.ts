import 'reflect-metadata';
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import * as x509 from '@peculiar/x509';
import { constants, sign, type KeyObject } from 'node:crypto';
import type { HashName, KeyAlgorithmSpec } from './algorithms.js';

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

/**
 * Signs as `signingAlgorithm` describes, with node:crypto: synchronous, Brainpool included, and
 * ECDSA signatures come DER-encoded, as X.509 carries them.
 */
export function signWith(key: KeyObject, spec: KeyAlgorithmSpec, data: Uint8Array): Buffer {
  const digest = nodeDigest(spec.hash);
  return spec.kind === 'ec'
    ? sign(digest, data, key)
    : sign(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hashLength(spec.hash) });
}

/** node:crypto's name of a hash ("sha256"). */
export function nodeDigest(hash: HashName): string {
  return hash.replace('-', '').toLowerCase();
}

function hashLength(hash: string): number {
  return hash === 'SHA-512' ? 64 : hash === 'SHA-384' ? 48 : 32;
}
