import type Koa from 'koa';
import { z } from 'zod';
import { peerAddress } from '../server/peer-address.js';
import { authenticate } from './authenticate.js';
import type { AcmeContext } from './context.js';
import { AcmeProblem } from './problems.js';

const text = (max: number) => z.string().max(max);
const stamp = z.iso.datetime({ offset: true });

/** What an agent may report: its certificate, next renewal, listeners and last error. Nothing else is stored. */
export const agentReportSchema = z
  .object({
    certificate: z.object({ serial: z.string().regex(/^[0-9a-f]{1,64}$/), notAfter: stamp, identifiers: z.array(text(253)).max(100) }).strict().nullable(),
    nextRenewal: stamp.nullable(),
    listeners: z
      .array(z.object({ kind: z.enum(['dicom', 'hl7']), listen: text(64), ok: z.boolean().nullable(), servedSerial: z.string().regex(/^[0-9a-f]{1,64}$/).nullable() }).strict())
      .max(64),
    lastError: text(2000).nullable(),
    agentVersion: text(32),
    updatedAt: stamp,
  })
  .strict();

/**
 * POST {wardcertAgentReport}: an agent's status, JWS-signed with its account key like any ACME
 * request, kept (the newest per account) for the dashboard.
 */
export async function agentReport(acme: AcmeContext, ctx: Koa.Context): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const parsed = agentReportSchema.safeParse(req.payload);
  if (!parsed.success) throw new AcmeProblem('malformed', `agent report: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  const account = req.account!;
  await acme.store.agentReports.save({ accountId: account.id, deviceId: account.deviceId, report: parsed.data, remoteAddress: peerAddress(ctx) ?? null, receivedAt: acme.now() });
  ctx.status = 204;
}
