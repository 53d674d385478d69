import type Koa from 'koa';
import { z } from 'zod';
import { issueAndRecord } from '../ca/issue-and-record.js';
import { checkCsr, CsrError } from '../pki/csr.js';
import { LeafPolicyError } from '../pki/leaf.js';
import { recordForRequest } from './audit.js';
import { authenticate } from './authenticate.js';
import type { AcmeContext } from './context.js';
import { currentOrder } from './orders.js';
import { AcmeProblem } from './problems.js';
import { certId } from './cert-id.js';
import { orderView } from './views.js';

const finalizeSchema = z.object({ csr: z.string().min(1).max(16_384).regex(/^[A-Za-z0-9_-]+$/) }).loose();

const key = (i: { type: string; value: string }) => `${i.type}:${i.value}`;

/**
 * How long one finalization may hold its order. Signing takes milliseconds; past this the instance
 * is taken for dead and the order goes back to ready, so a retry on another instance can finish it.
 */
export const FINALIZE_LEASE_MS = 10_000;

/** RFC 8555 s7.4: the CSR must name exactly the order's identifiers; issuance is immediate. */
export async function finalize(acme: AcmeContext, ctx: Koa.Context, id: string): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const { order, authorizationIds } = await currentOrder(acme, id, req.account!.id);
  if (order.status !== 'ready') {
    throw new AcmeProblem('orderNotReady', `the order is ${order.status}; it must be ready (all authorizations valid) to finalize`);
  }
  const body = finalizeSchema.safeParse(req.payload);
  if (!body.success) throw new AcmeProblem('malformed', 'finalize needs {"csr": base64url DER}');
  let request;
  try {
    request = await checkCsr(new Uint8Array(Buffer.from(body.data.csr, 'base64url')));
  } catch (err) {
    if (err instanceof CsrError) throw new AcmeProblem(err.problem, err.message);
    throw err;
  }
  const wanted = new Set(order.identifiers.map(key));
  const asked = new Set(request.identifiers.map(key));
  const extra = [...asked].filter((k) => !wanted.has(k));
  const missing = [...wanted].filter((k) => !asked.has(k));
  if (extra.length || missing.length) {
    throw new AcmeProblem('badCSR', `the CSR must name exactly the order's identifiers${extra.length ? `; not in the order: ${extra.join(', ')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`);
  }
  const profile = acme.profiles.get(order.profile);
  if (!profile) throw new AcmeProblem('invalidProfile', `profile "${order.profile}" is no longer offered`);
  const now = acme.now();
  const token = await acme.store.orders.beginFinalize(order.id, now, new Date(now.getTime() + FINALIZE_LEASE_MS));
  if (!token) throw new AcmeProblem('orderNotReady', 'the order is already being finalized');
  const validityMs = order.notAfter ? order.notAfter.getTime() - now.getTime() : undefined;
  let leaf;
  try {
    // The order's identifiers, not the CSR's spelling, go into the certificate.
    leaf = await issueAndRecord(
      acme.store,
      { ca: acme.ca, profile, request: { ...request, identifiers: order.identifiers }, validityMs, httpBase: acme.httpBase, onLegacyKey: (m) => acme.logger.warn({ event: 'issuance.legacyKey', order: order.id }, m) },
      { accountId: order.accountId, orderId: order.id, deviceId: req.account!.deviceId, replaces: order.replaces },
      async (certificate) => {
        // Before it is stored: a certificate whose issuance the trail could not take is never handed out.
        await recordForRequest(acme, ctx, {
          type: 'certificate.issued',
          outcome: 'success',
          subject: { kind: 'certificate', id: certificate.serial },
          details: { order: order.id, profile: profile.name, identifiers: certificate.identifiers.map((i) => `${i.type}:${i.value}`), notAfter: certificate.notAfter.toISOString() },
        });
        if (!(await acme.store.orders.completeFinalize(order.id, token, certificate))) {
          throw new AcmeProblem('orderNotReady', 'this finalization outlasted its deadline and the order was handed back; fetch the order and finalize again if it is ready');
        }
      },
    );
  } catch (err) {
    await acme.store.orders.abandonFinalize(order.id, token);
    if (err instanceof LeafPolicyError) throw new AcmeProblem(err.problem, err.message);
    throw err;
  }
  acme.counters?.issued(profile.name);
  acme.logger.info(
    { event: 'certificate.issued', order: order.id, serial: leaf.serial, certId: certId(acme.ca.keyId, leaf.serial), profile: profile.name, notAfter: leaf.notAfter.toISOString() },
    'certificate issued',
  );
  ctx.set('Location', acme.urls.order(order.id));
  // The order as completeFinalize wrote it; no read needed.
  ctx.body = orderView({ ...order, status: 'valid', certificateSerial: leaf.serial }, authorizationIds, acme.urls);
}
