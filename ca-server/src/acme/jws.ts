import { calculateJwkThumbprint, flattenedVerify, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import { AcmeProblem } from './problems.js';

export const SIGNATURE_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'EdDSA'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

const B64URL = /^[A-Za-z0-9_-]*$/;

export const flattenedJwsSchema = z
  .object({
    protected: z.string().min(1).regex(B64URL),
    payload: z.string().regex(B64URL),
    signature: z.string().min(1).regex(B64URL),
  })
  .strict();

export type FlattenedJws = z.infer<typeof flattenedJwsSchema>;

const headerSchema = z
  .object({
    alg: z.string(),
    nonce: z.string().regex(B64URL).min(1).optional(),
    url: z.string(),
    jwk: z.record(z.string(), z.unknown()).optional(),
    kid: z.string().optional(),
  })
  .loose();

export type ProtectedHeader = z.infer<typeof headerSchema>;

/** Members a public JWK may carry; a private member ("d", "p", ...) means a leaked private key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const CURVE_FOR_ALG: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

export function decodeJson(b64: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', `${what} is not base64url-encoded JSON`);
  }
}

export function parseJws(body: unknown): { jws: FlattenedJws; header: ProtectedHeader } {
  const parsed = flattenedJwsSchema.safeParse(body);
  if (!parsed.success) throw new AcmeProblem('malformed', 'the request body is not a flattened JWS (RFC 8555 s6.2)');
  const header = headerSchema.safeParse(decodeJson(parsed.data.protected, 'the protected header'));
  if (!header.success) throw new AcmeProblem('malformed', `protected header: ${header.error.issues[0]?.path.join('.') || 'shape'}: ${header.error.issues[0]?.message}`);
  if (!(SIGNATURE_ALGORITHMS as readonly string[]).includes(header.data.alg)) {
    throw new AcmeProblem('badSignatureAlgorithm', `JWS algorithm "${header.data.alg}" is not supported`, { algorithms: [...SIGNATURE_ALGORITHMS] });
  }
  if ((header.data.jwk === undefined) === (header.data.kid === undefined)) {
    throw new AcmeProblem('malformed', 'the protected header must carry exactly one of "jwk" and "kid"');
  }
  return { jws: parsed.data, header: header.data };
}

/** Checks that a JWK is a public key the algorithm may use, at the strength the policy asks. */
export function checkAccountKey(jwk: Record<string, unknown>, alg: string): JWK {
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw new AcmeProblem('badPublicKey', 'the JWK contains private key material');
  const kty = jwk.kty;
  if (alg.startsWith('ES')) {
    if (kty !== 'EC' || jwk.crv !== CURVE_FOR_ALG[alg]) throw new AcmeProblem('badPublicKey', `${alg} needs an EC key on ${CURVE_FOR_ALG[alg]}`);
  } else if (alg === 'RS256') {
    const bits = typeof jwk.n === 'string' ? Buffer.from(jwk.n, 'base64url').length * 8 : 0;
    if (kty !== 'RSA' || bits < 2048) throw new AcmeProblem('badPublicKey', `RS256 account keys need RSA of at least 2048 bits (got ${bits})`);
  } else if (alg === 'EdDSA') {
    if (kty !== 'OKP' || jwk.crv !== 'Ed25519') throw new AcmeProblem('badPublicKey', 'EdDSA account keys must be Ed25519');
  }
  return jwk as JWK;
}

/** Imported account keys, so a device's every request does not import its key again. */
const importedKeys = new Map<string, Awaited<ReturnType<typeof importJWK>>>();
const MAX_IMPORTED_KEYS = 20_000;

async function importCached(jwk: JWK, alg: string) {
  const id = `${alg} ${JSON.stringify(jwk)}`;
  let key = importedKeys.get(id);
  if (!key) {
    key = await importJWK(jwk, alg);
    // Oldest first out: a Map iterates in insertion order.
    if (importedKeys.size >= MAX_IMPORTED_KEYS) importedKeys.delete(importedKeys.keys().next().value!);
    importedKeys.set(id, key);
  }
  return key;
}

/** Verifies the signature with the given public JWK; returns the decoded payload bytes. */
export async function verifyWithJwk(jws: FlattenedJws, jwk: JWK, alg: string): Promise<Uint8Array> {
  let key;
  try {
    key = await importCached(jwk, alg);
  } catch {
    // A key that was fine at registration: what does not fit is the algorithm this JWS names.
    throw new AcmeProblem('malformed', `the JWS algorithm ${alg} does not fit the key`);
  }
  try {
    const { payload } = await flattenedVerify(jws, key, { algorithms: [alg] });
    return payload;
  } catch {
    throw new AcmeProblem('malformed', 'the JWS signature does not verify');
  }
}

export function thumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

export function parsePayload(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined; // POST-as-GET
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', 'the JWS payload is not JSON');
  }
}
