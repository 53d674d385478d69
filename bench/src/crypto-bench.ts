import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** JWS-signed requests in one issuance: newOrder, authorization, challenge, one poll, order, finalize, certificate. */
export const SIGNED_REQUESTS_PER_ISSUANCE = 7;

export interface CryptoCost {
  /** One ES256 JWS verification (P-256, SHA-256), microseconds. */
  jwsVerifyUs: number;
  /** The CSR's self-signature check (P-256), microseconds. */
  csrVerifyUs: number;
  /** The certificate signature by the issuing key (P-384, SHA-384, as the quickstart's CA), microseconds. */
  certSignUs: number;
  /** The cryptography of one issuance: the JWS verifications, the CSR check and the signature, milliseconds. */
  perIssuanceMs: number;
}

/** CPU time of `fn` (not wall time: on a shared machine that counts other processes) per call, microseconds. */
function time(fn: () => void, rounds: number): number {
  for (let i = 0; i < Math.min(50, rounds); i++) fn();
  const started = process.cpuUsage();
  for (let i = 0; i < rounds; i++) fn();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / rounds;
}

const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });

/**
 * The signatures every issuance needs, alone, on this machine's OpenSSL: what the server's CPU per
 * certificate would be if nothing else cost anything.
 */
export function measureCrypto(rounds = 2000): CryptoCost {
  const device = ec('prime256v1');
  const ca = ec('secp384r1');
  // A JWS signing input and a tbsCertificate are a few hundred bytes to a kilobyte.
  const jwsInput = Buffer.alloc(400, 'a');
  const tbs = Buffer.alloc(900, 'b');
  const p1363 = (key: KeyObject, data: Buffer, hash: string) => sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  const jwsSig = p1363(device.privateKey, jwsInput, 'sha256');
  const csrSig = sign('sha256', tbs, device.privateKey);
  const jwsVerifyUs = time(() => void verify('sha256', jwsInput, { key: device.publicKey, dsaEncoding: 'ieee-p1363' }, jwsSig), rounds);
  const csrVerifyUs = time(() => void verify('sha256', tbs, device.publicKey, csrSig), rounds);
  const certSignUs = time(() => void sign('sha384', tbs, ca.privateKey), rounds);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    jwsVerifyUs: round(jwsVerifyUs),
    csrVerifyUs: round(csrVerifyUs),
    certSignUs: round(certSignUs),
    perIssuanceMs: round((SIGNED_REQUESTS_PER_ISSUANCE * jwsVerifyUs + csrVerifyUs + certSignUs) / 1000),
  };
}
