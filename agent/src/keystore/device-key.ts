import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Identifier } from '../config/schema.js';
import type { KEY_TYPES } from '../config/schema.js';

const generate = promisify(generateKeyPair);

export type KeyType = (typeof KEY_TYPES)[number];

/** Born on the device, never sent anywhere: only its CSR leaves. */
export async function newDeviceKey(type: KeyType): Promise<KeyObject> {
  const { privateKey } =
    type === 'ecdsa-p256' || type === 'ecdsa-p384'
      ? await generate('ec', { namedCurve: type === 'ecdsa-p256' ? 'prime256v1' : 'secp384r1' })
      : await generate('rsa', { modulusLength: type === 'rsa-3072' ? 3072 : 4096 });
  return privateKey;
}

export function keyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

export function keyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** A PKCS#10 request naming exactly the identifiers (SANs; the first DNS name also as CN). */
export async function makeCsr(key: KeyObject, identifiers: Identifier[]): Promise<Uint8Array> {
  const ec = key.asymmetricKeyType === 'ec';
  const curve = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
  const algorithm = ec ? { name: 'ECDSA', namedCurve: curve } : { name: 'RSA-PSS', hash: 'SHA-256' };
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithm, false, ['sign']),
    crypto.subtle.importKey('spki', createPublicKey(key).export({ type: 'spki', format: 'der' }), algorithm, true, ['verify']),
  ]);
  const dns = identifiers.find((i) => i.type === 'dns');
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: dns ? new x509.Name([{ CN: [dns.value] }]) : new x509.Name([]),
    keys: { privateKey, publicKey },
    signingAlgorithm: (ec ? { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' } : { name: 'RSA-PSS', saltLength: 32 }) as EcdsaParams,
    extensions: [new x509.SubjectAlternativeNameExtension(identifiers.map((i) => ({ type: i.type, value: i.value })))],
  });
  return new Uint8Array(csr.rawData);
}
