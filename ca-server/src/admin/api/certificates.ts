import { peerAddress } from '../../server/peer-address.js';
import type Koa from 'koa';
import { z } from 'zod';
import { isRevocationReason, REVOCATION_REASONS, revokeAndPublish } from '../../ca/revoke.js';
import type { CertificateRecord, CertificateSummary } from '../../store/index.js';
import { bodyOf, queryOf } from '../body.js';
import { certificateJson, stateOf } from '../certificate-json.js';
import { certificateQuerySchema, toPageQuery } from '../certificate-query.js';
import type { AdminContext } from '../context.js';
import { csvStream } from '../csv.js';
import { AdminProblem } from '../problems.js';
import { signedIn } from '../signed-in.js';

const serialPattern = /^[0-9a-f]{1,64}$/;
const reasonCodes = new Map(Object.entries(REVOCATION_REASONS).map(([code, name]) => [name, Number(code)]));

export async function certificateListApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const params = queryOf(ctx, certificateQuerySchema);
  const now = admin.now();
  const { total, items } = await admin.store.certificateSearch.page(toPageQuery(params), now);
  ctx.body = { total, page: params.page, size: params.size, items: items.map((c) => certificateJson(c, now)) };
}

/** The filtered set as CSV, streamed in batches; cells that a spreadsheet would run as formulas are defused. */
export async function certificateCsv(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  // The same filter and sort as the list; its page and size are ignored: the export is the whole set.
  const query = toPageQuery(queryOf(ctx, certificateQuerySchema));
  const now = admin.now();
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="certificates-${now.toISOString().slice(0, 10)}.csv"`);
  ctx.body = csvStream(
    ['serial', 'state', 'profile', 'subject', 'identifiers', 'device', 'notBefore', 'notAfter', 'issuedAt', 'revokedAt', 'revocationReason'],
    admin.store.certificateSearch.each(query, now),
    (c: CertificateSummary) => [
      c.serial,
      stateOf(c, now),
      c.profile,
      c.subject,
      c.identifiers.map((i) => i.value).join(' '),
      c.deviceId,
      c.notBefore.toISOString(),
      c.notAfter.toISOString(),
      c.issuedAt.toISOString(),
      c.revokedAt?.toISOString(),
      c.revocationReason === null ? '' : REVOCATION_REASONS[c.revocationReason],
    ],
  );
}

export const summaryOf = (r: CertificateRecord): CertificateSummary => ({
  ...r,
  deviceId: r.deviceId ?? null,
  accountId: r.accountId ?? null,
  replaces: r.replaces ?? null,
});

async function certificateOr404(admin: AdminContext, serial: string | undefined): Promise<CertificateRecord> {
  const record = serial && serialPattern.test(serial) ? await admin.store.certificates.bySerial(serial) : undefined;
  if (!record) throw new AdminProblem('notFound', `no certificate with serial ${String(serial).slice(0, 64)}`);
  return record;
}

export async function certificateApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  ctx.body = certificateJson(summaryOf(await certificateOr404(admin, ctx.params.serial)), admin.now());
}

const revokeBody = z
  .object({
    // A reason code or its RFC 5280 name, as the dashboard's form sends it.
    reason: z.union([z.number().int(), z.string().regex(/^[0-9]{1,2}$/).transform(Number), z.string().max(32).transform((n) => reasonCodes.get(n) ?? -1)]),
  })
  .loose();

/** Revokes through the same path as ACME revokeCert: the CRL is re-signed at once and OCSP reads the store. */
export async function revokeApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const { user } = signedIn(ctx);
  const record = await certificateOr404(admin, ctx.params.serial);
  const { reason } = bodyOf(ctx, revokeBody);
  if (!isRevocationReason(reason)) {
    throw new AdminProblem('malformed', `reason must be one of ${Object.entries(REVOCATION_REASONS).map(([c, n]) => `${c} (${n})`).join(', ')}`);
  }
  const actor = { kind: 'user' as const, id: user.id, name: user.username };
  const revoked = record.status === 'valid' && (await revokeAndPublish(admin, record.serial, reason, `user ${user.username}`));
  await admin.audit.record({
    type: 'certificate.revoked',
    outcome: revoked ? 'success' : 'failure',
    actor,
    source: peerAddress(ctx) ?? 'unknown',
    subject: { kind: 'certificate', id: record.serial },
    details: { reason: REVOCATION_REASONS[reason]!, ...(revoked ? {} : { error: 'already revoked' }) },
  });
  if (!revoked) throw new AdminProblem('conflict', 'the certificate is already revoked');
  ctx.body = certificateJson(summaryOf((await admin.store.certificates.bySerial(record.serial))!), admin.now());
}

const renewNowBody = z.object({ serials: z.array(z.string().regex(serialPattern)).min(1).max(1000) }).loose();

/** renew-now for a selection, exactly as `wardcert-ca renew-now --serial` does it. */
export async function renewNowApi(admin: AdminContext, ctx: Koa.Context): Promise<void> {
  const { user } = signedIn(ctx);
  const { serials } = bodyOf(ctx, renewNowBody);
  const count = await admin.store.certificates.renewNow({ serials }, admin.now());
  await admin.audit.record({
    type: 'certificate.renew-now',
    outcome: 'success',
    actor: { kind: 'user', id: user.id, name: user.username },
    source: peerAddress(ctx) ?? 'unknown',
    details: { serials: serials.slice(0, 50), selected: serials.length, renewing: count },
  });
  ctx.body = { renewing: count };
}
