import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPublicKey } from 'node:crypto';
import type Koa from 'koa';
import { z } from 'zod';
import { isRevocationReason, revokeAndPublish } from '../ca/revoke.js';
import { recordForRequest } from './audit.js';
import { authenticate } from './authenticate.js';
import type { AcmeContext } from './context.js';
import { AcmeProblem, notFound } from './problems.js';

/** POST-as-GET for the chain: leaf then issuing CA (RFC 8555 s7.4.2). */
export async function downloadCertificate(acme: AcmeContext, ctx: Koa.Context, serial: string): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const record = /^[0-9a-f]{1,64}$/.test(serial) ? await acme.store.certificates.bySerial(serial) : undefined;
  if (!record || record.accountId !== req.account!.id) throw notFound('this certificate');
  ctx.type = 'application/pem-certificate-chain';
  // The stored DER was signed here: it is wrapped as PEM, not parsed again.
  ctx.body = `${x509.PemConverter.encode(new Uint8Array(record.der), 'CERTIFICATE')}\n${acme.ca.cert.toString('pem')}\n`;
}

const revokeSchema = z.object({ certificate: z.string().min(1).max(16_384).regex(/^[A-Za-z0-9_-]+$/), reason: z.number().int().optional() }).loose();

/** RFC 8555 s7.6: by the account that owns the certificate, or signed by the certificate's own key. */
export async function revokeCertificate(acme: AcmeContext, ctx: Koa.Context): Promise<void> {
  const req = await authenticate(acme, ctx, 'either');
  const body = revokeSchema.safeParse(req.payload);
  if (!body.success) throw new AcmeProblem('malformed', 'revokeCert needs {"certificate": base64url DER, "reason"?: number}');
  const reason = body.data.reason ?? 0;
  if (!isRevocationReason(reason)) throw new AcmeProblem('badRevocationReason', `revocation reason ${reason} is not allowed (0, 1, 3, 4, 5, 9)`);
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(Buffer.from(body.data.certificate, 'base64url')));
  } catch {
    throw new AcmeProblem('malformed', 'the certificate is not DER X.509');
  }
  const record = await acme.store.certificates.bySerial(cert.serialNumber.toLowerCase());
  if (!record || !Buffer.from(record.der).equals(Buffer.from(cert.rawData))) throw notFound('this certificate (at this CA)');
  if (req.account) {
    if (record.accountId !== req.account.id) throw new AcmeProblem('unauthorized', 'this account did not order this certificate');
  } else {
    const spkiOfSigner = jwkSpkiSha256(req.jwk);
    if (spkiOfSigner !== record.spkiSha256) throw new AcmeProblem('unauthorized', "the request is signed neither by the owning account nor by the certificate's key");
  }
  if (record.status === 'revoked') throw new AcmeProblem('alreadyRevoked', 'the certificate is already revoked');
  if (!(await revokeAndPublish(acme, record.serial, reason, req.account ? `account ${req.account.id}` : 'certificate key'))) {
    throw new AcmeProblem('alreadyRevoked', 'the certificate is already revoked');
  }
  await recordForRequest(acme, ctx, {
    type: 'certificate.revoked',
    outcome: 'success',
    subject: { kind: 'certificate', id: record.serial },
    details: { reason, by: req.account ? 'account' : 'certificate key', profile: record.profile },
  });
  acme.counters?.revoked(record.profile);
  ctx.status = 200;
  ctx.body = '';
}

/** SHA-256 of the SubjectPublicKeyInfo behind a JWK, to compare with the certificate's. */
function jwkSpkiSha256(jwk: object): string {
  try {
    const spki = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('hex');
  } catch {
    return '';
  }
}
