import { createHash } from 'node:crypto';
import type Koa from 'koa';
import type { CertificateRecord } from '../store/index.js';
import type { AcmeContext } from './context.js';
import { parseCertId } from './cert-id.js';
import { AcmeProblem, notFound } from './problems.js';

const MINUTE_MS = 60_000;
const MAX_RETRY_AFTER_S = 6 * 3600;

export interface RenewalWindow {
  start: Date;
  end: Date;
}

/** A stable fraction in [0, 1) from a serial, so each certificate keeps its own slot. */
function slot(serial: string): number {
  return createHash('sha256').update(serial).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * RFC 9773 window: a slot of a twelfth of the lifetime, placed by the serial's hash inside
 * [2/3, 5/6] of the lifetime. Devices spread evenly over the last third and keep the final sixth as
 * margin for retries. A revoked certificate or one an operator marked renew-now gets a window that
 * has already started, which tells clients to renew at once.
 */
export function renewalWindow(cert: CertificateRecord, now: Date): RenewalWindow {
  if (cert.status === 'revoked' || (cert.renewBy && cert.renewBy <= now)) {
    const end = cert.renewBy && cert.renewBy <= now ? cert.renewBy : now;
    return { start: new Date(end.getTime() - MINUTE_MS), end };
  }
  const from = cert.notBefore.getTime();
  const life = cert.notAfter.getTime() - from;
  const width = life / 12;
  const start = from + (2 * life) / 3 + slot(cert.serial) * (life / 6 - width);
  return { start: new Date(Math.round(start)), end: new Date(Math.round(start + width)) };
}

/** Poll again after a twenty-fourth of the lifetime, between one minute and six hours. */
export function retryAfterSeconds(cert: CertificateRecord): number {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  return Math.min(MAX_RETRY_AFTER_S, Math.max(60, Math.round(life / 24 / 1000)));
}

/** GET {renewalInfo}/{certID}: unauthenticated, as RFC 9773 s4.2 asks. */
export async function getRenewalInfo(acme: AcmeContext, ctx: Koa.Context, raw: string): Promise<void> {
  const parsed = parseCertId(raw);
  if (!parsed) throw new AcmeProblem('malformed', `"${raw.slice(0, 80)}" is not an ARI certificate identifier`);
  const cert = await acme.store.certificates.bySerial(parsed.serial);
  if (!cert || cert.issuerKeyId !== parsed.keyId) throw notFound('this certificate');
  const window = renewalWindow(cert, acme.now());
  ctx.set('Retry-After', String(retryAfterSeconds(cert)));
  ctx.body = { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } };
}
