import { createHash } from 'node:crypto';
import type Koa from 'koa';
import { windowOccurrences } from '../policy/maintenance-window.js';
import type { CertificateRecord, MaintenanceWindow } from '../store/index.js';
import type { AcmeContext } from './context.js';
import { parseCertId } from './cert-id.js';
import { AcmeProblem, notFound } from './problems.js';

const MINUTE_MS = 60_000;
const MAX_RETRY_AFTER_S = 6 * 3600;

export interface RenewalWindow {
  start: Date;
  end: Date;
}

/** Stable fractions in [0, 1) from a serial, so each certificate keeps its own slot; `which` picks one of several. */
function slot(serial: string, which = 0): number {
  return createHash('sha256').update(serial).digest().readUInt32BE(4 * which) / 2 ** 32;
}

/**
 * RFC 9773 window: a slot of a twelfth of the lifetime, placed by the serial's hash inside
 * [2/3, 5/6] of the lifetime. Devices spread evenly over the last third and keep the final sixth as
 * margin for retries. A revoked certificate or one an operator marked renew-now gets a window that
 * has already started, which tells clients to renew at once.
 */
export function renewalWindow(cert: CertificateRecord, now: Date, maintenance: MaintenanceWindow | null = null): RenewalWindow {
  if (cert.status === 'revoked' || (cert.renewBy && cert.renewBy <= now)) {
    const end = cert.renewBy && cert.renewBy <= now ? cert.renewBy : now;
    return { start: new Date(end.getTime() - MINUTE_MS), end };
  }
  return (maintenance && insideMaintenance(cert, now, maintenance)) ?? plainSpread(cert);
}

function plainSpread(cert: CertificateRecord): RenewalWindow {
  const from = cert.notBefore.getTime();
  const life = cert.notAfter.getTime() - from;
  const width = life / 12;
  const start = from + (2 * life) / 3 + slot(cert.serial) * (life / 6 - width);
  return { start: new Date(Math.round(start)), end: new Date(Math.round(start + width)) };
}

/** Shorter occurrences than this (a window clipped by the useful part of the lifetime) are passed over. */
const MIN_OCCURRENCE_MS = 5 * MINUTE_MS;

/**
 * For a device with a maintenance window: the window's occurrences between half and five sixths of
 * the lifetime (the last sixth stays as margin for retries) are the candidates. The serial's hash
 * picks one, so devices spread over the days, and a quarter-long slot inside it, so they spread over
 * the hours; an occurrence already over gives way to the next. None left: the plain spread.
 */
function insideMaintenance(cert: CertificateRecord, now: Date, maintenance: MaintenanceWindow): RenewalWindow | undefined {
  const from = cert.notBefore.getTime();
  const life = cert.notAfter.getTime() - from;
  const candidates = windowOccurrences(maintenance, from + life / 2, cert.notAfter.getTime() - life / 6).filter((o) => o.end - o.start >= MIN_OCCURRENCE_MS);
  const first = Math.floor(slot(cert.serial, 1) * candidates.length);
  const chosen = candidates.slice(first).find((o) => o.end > now.getTime());
  if (!chosen) return undefined;
  const length = chosen.end - chosen.start;
  const width = length / 4;
  const start = chosen.start + slot(cert.serial) * (length - width);
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
  const device = cert.deviceId ? await acme.store.devices.byId(cert.deviceId) : undefined;
  const window = renewalWindow(cert, acme.now(), device?.maintenanceWindow ?? null);
  ctx.set('Retry-After', String(retryAfterSeconds(cert)));
  ctx.body = { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } };
}
