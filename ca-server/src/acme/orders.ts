import type Koa from 'koa';
import { z } from 'zod';
import type { ChallengeType, Order } from '../store/index.js';
import type { Identifier } from '../pki/name-constraints.js';
import { recordForRequest } from './audit.js';
import { authenticate } from './authenticate.js';
import type { AcmeContext } from './context.js';
import { accountAllowedIdentifiers } from '../policy/devices.js';
import { checkOrderIdentifiers, identifierSchema } from './identifiers.js';
import { AcmeProblem, notFound } from './problems.js';
import { parseCertId } from './cert-id.js';
import { orderView } from './views.js';

const MAX_IDENTIFIERS = 100;
const HOUR_MS = 3_600_000;
const ORDERS_PAGE = 100;

const newOrderSchema = z
  .object({
    identifiers: z.array(identifierSchema).min(1).max(MAX_IDENTIFIERS),
    notBefore: z.iso.datetime({ offset: true }).optional(),
    notAfter: z.iso.datetime({ offset: true }).optional(),
    profile: z.string().max(64).optional(),
    replaces: z.string().max(512).optional(),
  })
  .loose();

/** RFC 8738: IP addresses are proven by http-01 or tls-alpn-01, never through DNS. */
const challengeTypes = (id: Identifier): ChallengeType[] => (id.type === 'ip' ? ['http-01', 'tls-alpn-01'] : ['http-01', 'tls-alpn-01', 'dns-01']);

export async function newOrder(acme: AcmeContext, ctx: Koa.Context): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const account = req.account!;
  const body = newOrderSchema.safeParse(req.payload);
  if (!body.success) throw new AcmeProblem('malformed', `newOrder: ${body.error.issues[0]?.path.join('.')}: ${body.error.issues[0]?.message}`);
  const profileName = body.data.profile ?? acme.policy.defaultProfile;
  const profile = acme.profiles.get(profileName);
  if (!profile) throw new AcmeProblem('invalidProfile', `unknown profile "${profileName}" (offered: ${[...acme.profiles.keys()].join(', ')})`);
  const identifiers = checkOrderIdentifiers(body.data.identifiers, {
    allowDns: acme.policy.allowDns,
    allowIp: acme.policy.allowIp,
    accountAllowed: await accountAllowedIdentifiers(acme.store, account),
    constraints: acme.ca.constraints,
    profileTypes: profile.identifiers.types,
    profileName: profile.name,
  });
  if (identifiers.length > profile.identifiers.max) {
    throw new AcmeProblem('rejectedIdentifier', `profile ${profile.name} allows at most ${profile.identifiers.max} identifiers`);
  }
  const now = acme.now();
  const { notBefore, notAfter } = orderValidity(body.data.notBefore, body.data.notAfter, now, profile.validity.max);
  const replaces = body.data.replaces === undefined ? null : await checkReplaces(acme, body.data.replaces, account.id);

  const count = await acme.store.rateLimits.hit(`orders:${account.id}`, now, HOUR_MS);
  if (count > acme.policy.ordersPerHour) {
    const retry = Math.ceil((HOUR_MS - (now.getTime() % HOUR_MS)) / 1000);
    throw new AcmeProblem('rateLimited', `this account may create ${acme.policy.ordersPerHour} orders per hour`, { headers: { 'Retry-After': String(retry) } });
  }
  let created;
  try {
    created = await acme.store.orders.create(
      { accountId: account.id, identifiers, profile: profile.name, notBefore, notAfter, expiresAt: new Date(now.getTime() + acme.policy.orderLifetimeMs), replaces, challengeTypes },
      now,
    );
  } catch (err) {
    if (replaces && (await acme.store.knex('orders').where({ replaces }).whereNot({ status: 'invalid' }).first())) {
      throw new AcmeProblem('alreadyReplaced', `certificate ${replaces} is already being replaced by another order`);
    }
    throw err;
  }
  acme.logger.info({ event: 'order.created', account: account.id, order: created.order.id, identifiers: identifiers.map((i) => i.value), profile: profile.name }, 'ACME order created');
  await recordForRequest(acme, ctx, {
    type: 'order.created',
    outcome: 'success',
    subject: { kind: 'order', id: created.order.id },
    details: { identifiers: identifiers.map((i) => `${i.type}:${i.value}`), profile: profile.name, replaces },
  });
  ctx.status = 201;
  ctx.set('Location', acme.urls.order(created.order.id));
  ctx.body = orderView(created.order, created.authorizations.map((a) => a.id), acme.urls);
}

function orderValidity(nb: string | undefined, na: string | undefined, now: Date, maxMs: number) {
  const notBefore = nb ? new Date(nb) : null;
  const notAfter = na ? new Date(na) : null;
  // Certificates start now (back-dated for skew); a future start would need a second signing pass.
  if (notBefore && notBefore.getTime() > now.getTime() + 60_000) throw new AcmeProblem('malformed', 'notBefore in the future is not supported');
  if (notAfter && notAfter <= now) throw new AcmeProblem('malformed', 'notAfter is in the past');
  if (notAfter && notAfter.getTime() - now.getTime() > maxMs) throw new AcmeProblem('malformed', 'notAfter is beyond the profile maximum validity');
  return { notBefore, notAfter };
}

/** RFC 9773 s5: the replaced certificate must exist, be this account's, and not be replaced already. */
async function checkReplaces(acme: AcmeContext, certId: string, accountId: string): Promise<string> {
  const parsed = parseCertId(certId);
  if (!parsed) throw new AcmeProblem('malformed', `replaces "${certId}" is not an ARI certificate identifier`);
  const cert = await acme.store.certificates.bySerial(parsed.serial);
  if (!cert || cert.issuerKeyId !== parsed.keyId) throw new AcmeProblem('malformed', `replaces names a certificate this CA did not issue`);
  if (cert.accountId !== accountId) throw new AcmeProblem('unauthorized', 'replaces names a certificate of another account');
  if (await acme.store.knex('orders').where({ replaces: certId }).whereNot({ status: 'invalid' }).first()) {
    throw new AcmeProblem('alreadyReplaced', `certificate ${certId} is already being replaced by another order`);
  }
  return certId;
}

/**
 * The order as it stands, first settling a finalization whose instance died and expiry (the
 * sweeper may not have run yet): a stalled order becomes ready again, or invalid once expired.
 * With it, its authorizations' ids, read in the same statement.
 */
export async function currentOrder(acme: AcmeContext, id: string, accountId: string): Promise<{ order: Order; authorizationIds: string[] }> {
  const found = await acme.store.orders.withAuthorizationIds(id);
  if (!found || found.order.accountId !== accountId) throw notFound('this order');
  const { order, authorizationIds } = found;
  const now = acme.now();
  const due = (order.status === 'pending' || order.status === 'ready') && order.expiresAt <= now;
  if (due || order.status === 'processing') {
    await acme.store.orders.recoverStalled(now, id);
    await acme.store.orders.expire(now, id);
    return { order: (await acme.store.orders.byId(id))!, authorizationIds };
  }
  return found;
}

export async function getOrder(acme: AcmeContext, ctx: Koa.Context, id: string): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const { order, authorizationIds } = await currentOrder(acme, id, req.account!.id);
  if (order.status === 'processing') ctx.set('Retry-After', '1');
  ctx.body = orderView(order, authorizationIds, acme.urls);
}

/** RFC 8555 s7.1.2.1, newest first, paged with Link: rel="next". */
export async function listOrders(acme: AcmeContext, ctx: Koa.Context, accountId: string): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  if (req.account!.id !== accountId) throw new AcmeProblem('unauthorized', 'this orders list belongs to another account');
  const cursor = typeof ctx.query.before === 'string' && /^\d{1,15}$/.test(ctx.query.before) ? new Date(Number(ctx.query.before)) : undefined;
  const page = await acme.store.orders.idsByAccount(accountId, ORDERS_PAGE + 1, cursor);
  if (page.length > ORDERS_PAGE) {
    ctx.append('Link', `<${acme.urls.orders(accountId)}?before=${page[ORDERS_PAGE - 1]!.createdAt.getTime()}>;rel="next"`);
  }
  ctx.body = { orders: page.slice(0, ORDERS_PAGE).map((o) => acme.urls.order(o.id)) };
}
