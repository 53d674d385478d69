import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Key algorithms Wardcert accepts, following BSI TR-02102-1: ECDSA on the NIST and Brainpool
 * curves of 256 bits or more, RSA of 3000 bits or more, hashes SHA-256 or stronger.
 */
export const KEY_ALGORITHMS = [
  'ecdsa-p256',
  'ecdsa-p384',
  'ecdsa-p521',
  'ecdsa-brainpoolp256r1',
  'ecdsa-brainpoolp384r1',
  'ecdsa-brainpoolp512r1',
  'rsa-3072',
  'rsa-4096',
] as const;

/** RSA 2048 survives only as an explicit, logged opt-in of a profile for old modalities. */
export const LEGACY_KEY_ALGORITHMS = ['rsa-2048'] as const;

export type StrongKeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export type KeyAlgorithm = StrongKeyAlgorithm | (typeof LEGACY_KEY_ALGORITHMS)[number];
export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface KeyAlgorithmSpec {
  readonly name: KeyAlgorithm;
  readonly kind: 'ec' | 'rsa';
  /** WebCrypto curve name (EC only). */
  readonly curve?: string;
  /** OpenSSL curve name, as Node's KeyObject reports it (EC only). */
  readonly opensslCurve?: string;
  readonly modulusLength?: number;
  /** Hash used when this key signs certificates, CRLs and OCSP responses. */
  readonly hash: HashName;
}

const SPECS: Record<KeyAlgorithm, KeyAlgorithmSpec> = {
  'ecdsa-p256': { name: 'ecdsa-p256', kind: 'ec', curve: 'P-256', opensslCurve: 'prime256v1', hash: 'SHA-256' },
  'ecdsa-p384': { name: 'ecdsa-p384', kind: 'ec', curve: 'P-384', opensslCurve: 'secp384r1', hash: 'SHA-384' },
  'ecdsa-p521': { name: 'ecdsa-p521', kind: 'ec', curve: 'P-521', opensslCurve: 'secp521r1', hash: 'SHA-512' },
  'ecdsa-brainpoolp256r1': {
    name: 'ecdsa-brainpoolp256r1', kind: 'ec', curve: 'brainpoolP256r1', opensslCurve: 'brainpoolP256r1', hash: 'SHA-256',
  },
  'ecdsa-brainpoolp384r1': {
    name: 'ecdsa-brainpoolp384r1', kind: 'ec', curve: 'brainpoolP384r1', opensslCurve: 'brainpoolP384r1', hash: 'SHA-384',
  },
  'ecdsa-brainpoolp512r1': {
    name: 'ecdsa-brainpoolp512r1', kind: 'ec', curve: 'brainpoolP512r1', opensslCurve: 'brainpoolP512r1', hash: 'SHA-512',
  },
  'rsa-2048': { name: 'rsa-2048', kind: 'rsa', modulusLength: 2048, hash: 'SHA-256' },
  'rsa-3072': { name: 'rsa-3072', kind: 'rsa', modulusLength: 3072, hash: 'SHA-256' },
  'rsa-4096': { name: 'rsa-4096', kind: 'rsa', modulusLength: 4096, hash: 'SHA-384' },
};

export const BSI_RULE =
  'BSI TR-02102-1 allows ECDSA on P-256, P-384, P-521, brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 ' +
  'and RSA of 3072 or 4096 bits';

/** A key or algorithm that the cryptographic policy refuses; the message names the rule. */
export class AlgorithmPolicyError extends Error {
  override readonly name = 'AlgorithmPolicyError';
}

/** The spec of an algorithm a CA key may use: only the strong list, never the legacy one. */
export function caKeyAlgorithm(name: string): KeyAlgorithmSpec {
  if (!(KEY_ALGORITHMS as readonly string[]).includes(name)) {
    throw new AlgorithmPolicyError(`algorithm "${name}" is refused: ${BSI_RULE} (choose one of ${KEY_ALGORITHMS.join(', ')})`);
  }
  return SPECS[name as KeyAlgorithm];
}

export function keyAlgorithmSpec(name: KeyAlgorithm): KeyAlgorithmSpec {
  return SPECS[name];
}

/**
 * Names the algorithm of a SubjectPublicKeyInfo, or throws AlgorithmPolicyError naming the rule it breaks.
 * Node's own key parser reads the SPKI, so no ASN.1 is decoded here.
 */
export function classifyPublicKey(spki: Uint8Array): KeyAlgorithmSpec {
  return readPublicKey(spki).spec;
}

/** classifyPublicKey, keeping the KeyObject Node parsed, for verifying signatures with node:crypto. */
export function readPublicKey(spki: Uint8Array): { key: KeyObject; spec: KeyAlgorithmSpec } {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    throw new AlgorithmPolicyError('the public key cannot be parsed');
  }
  return { key, spec: classifyKey(key) };
}

function classifyKey(key: KeyObject): KeyAlgorithmSpec {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    const spec = Object.values(SPECS).find((s) => s.opensslCurve === curve);
    if (!spec) throw new AlgorithmPolicyError(`EC curve ${curveLabel(curve)} is refused: ${BSI_RULE}`);
    return spec;
  }
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0;
    const spec = Object.values(SPECS).find((s) => s.kind === 'rsa' && s.modulusLength === bits);
    if (!spec) {
      throw new AlgorithmPolicyError(`RSA key of ${bits} bits is refused: ${BSI_RULE} (RSA keys need at least 3000 bits)`);
    }
    return spec;
  }
  throw new AlgorithmPolicyError(`key type ${type ?? 'unknown'} is refused: ${BSI_RULE}`);
}

const CURVE_LABELS: Record<string, string> = { prime192v1: 'P-192 (prime192v1)', secp224r1: 'P-224 (secp224r1)' };

function curveLabel(opensslName: string): string {
  return CURVE_LABELS[opensslName] ?? opensslName;
}
