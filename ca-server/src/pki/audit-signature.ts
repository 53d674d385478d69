import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyPublicKey } from './algorithms.js';
import { cryptoFor, importParams, signingAlgorithm } from './crypto.js';
import type { IssuingCa } from './issuing-ca.js';
import { caLayout } from './layout.js';

/** A signature by a CA key over some bytes, named by the key's subject key identifier (hex). */
export interface CaSignature {
  keyId: string;
  /** base64 of the WebCrypto signature (raw r||s for ECDSA, RSA-PSS otherwise). */
  signature: string;
}

/** Signs `data` with the issuing CA's key, as its CRLs are signed. */
export async function signWithCa(ca: IssuingCa, data: Uint8Array): Promise<CaSignature> {
  const { crypto, privateKey, signingAlgorithm: algorithm } = ca.key;
  const signature = await crypto.subtle.sign(algorithm, privateKey, toArrayBuffer(data));
  return { keyId: ca.keyId, signature: Buffer.from(signature).toString('base64') };
}

/** Why a signature does not hold, or undefined when it does. */
export type CaSignatureCheck = (data: Uint8Array, sig: CaSignature) => Promise<string | undefined>;

/**
 * Checks signatures against the CA certificates in the data directory (`ca/*.crt.pem`): the current
 * issuing CA and any earlier one kept there, so checkpoints of a previous CA key still verify.
 */
export async function caSignatureCheck(dataDir: string): Promise<CaSignatureCheck> {
  const dir = caLayout(dataDir).dir;
  const names = (await readdir(dir)).filter((n) => n.endsWith('.crt.pem')).sort();
  const byKeyId = new Map<string, x509.X509Certificate>();
  for (const name of names) {
    const cert = new x509.X509Certificate(await readFile(join(dir, name), 'utf8'));
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    if (ski) byKeyId.set(ski.keyId, cert);
  }
  return async (data, sig) => {
    const cert = byKeyId.get(sig.keyId);
    if (!cert) return `signed by key ${sig.keyId}, which no CA certificate in ${dir} has`;
    const spec = classifyPublicKey(new Uint8Array(cert.publicKey.rawData));
    const crypto = cryptoFor(spec);
    const key = await crypto.subtle.importKey('spki', cert.publicKey.rawData, importParams(spec), false, ['verify']);
    const ok = await crypto.subtle
      .verify(signingAlgorithm(spec), key, Buffer.from(sig.signature, 'base64'), toArrayBuffer(data))
      .catch(() => false);
    return ok ? undefined : `the signature does not verify against "${cert.subject}"`;
  };
}

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}
