import { createPrivateKey, createPublicKey, generateKeyPair as nodeGenerateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { classifyPublicKey, type KeyAlgorithmSpec } from './algorithms.js';
import { cryptoFor, importParams, signingAlgorithm } from './crypto.js';

const generate = promisify(nodeGenerateKeyPair);

/** A private key ready to sign with WebCrypto, with everything needed to describe its signatures. */
export interface SigningKey {
  readonly spec: KeyAlgorithmSpec;
  /** The same key for node:crypto, which signs synchronously (leaves are signed this way). */
  readonly keyObject: KeyObject;
  readonly crypto: Crypto;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly signingAlgorithm: EcdsaParams | RsaPssParams;
}

export class WrongPassphraseError extends Error {
  override readonly name = 'WrongPassphraseError';
}

export async function generateKey(spec: KeyAlgorithmSpec): Promise<KeyObject> {
  const { privateKey } =
    spec.kind === 'ec'
      ? await generate('ec', { namedCurve: spec.opensslCurve! })
      : await generate('rsa', { modulusLength: spec.modulusLength!, publicExponent: 0x10001 });
  return privateKey;
}

/** Encrypted PKCS#8 PEM (PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC) that `openssl pkey` opens. */
export function encryptPrivateKey(key: KeyObject, passphrase: string): string {
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
}

export function decryptPrivateKey(pem: string, passphrase: string, what: string): KeyObject {
  if (!pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new WrongPassphraseError(`${what} is not an encrypted PKCS#8 key; Wardcert keeps CA keys encrypted at rest`);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch {
    throw new WrongPassphraseError(`cannot decrypt ${what}: wrong passphrase or damaged key file`);
  }
}

export function spkiOf(key: KeyObject): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/** Imports a Node key into the WebCrypto provider that supports its algorithm. */
export async function toSigningKey(key: KeyObject): Promise<SigningKey> {
  const spki = spkiOf(key);
  const spec = classifyPublicKey(spki);
  const crypto = cryptoFor(spec);
  const params = importParams(spec);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey('pkcs8', pkcs8, params, false, ['sign']),
    crypto.subtle.importKey('spki', spki, params, true, ['verify']),
  ]);
  return { spec, keyObject: key, crypto, privateKey, publicKey, signingAlgorithm: signingAlgorithm(spec) };
}
