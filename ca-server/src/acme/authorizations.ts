import type Koa from 'koa';
import { z } from 'zod';
import type { Authorization } from '../store/index.js';
import { authenticate } from './authenticate.js';
import type { AcmeContext } from './context.js';
import { AcmeProblem, notFound } from './problems.js';
import { authorizationView, challengeView } from './views.js';

const deactivateSchema = z.object({ status: z.literal('deactivated') }).loose();

async function ownAuthorization(acme: AcmeContext, id: string, accountId: string): Promise<Authorization> {
  const authz = await acme.store.orders.authorization(id);
  if (!authz || authz.accountId !== accountId) throw notFound('this authorization');
  if (authz.status === 'pending' && authz.expiresAt <= acme.now()) {
    await acme.store.orders.expire(acme.now(), authz.orderId);
    return (await acme.store.orders.authorization(id))!;
  }
  return authz;
}

/** POST-as-GET, or deactivation (RFC 8555 s7.5.2). */
export async function postAuthorization(acme: AcmeContext, ctx: Koa.Context, id: string): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const authz = await ownAuthorization(acme, id, req.account!.id);
  if (req.payload === undefined) {
    // POST-as-GET, most often a device polling its validation: what was just read is the answer.
    ctx.body = authorizationView(authz, acme.urls);
    return;
  }
  if (!deactivateSchema.safeParse(req.payload).success) throw new AcmeProblem('malformed', 'an authorization can only be updated to {"status":"deactivated"}');
  if (!(await acme.store.orders.deactivateAuthorization(authz.id))) {
    throw new AcmeProblem('malformed', `an authorization in state ${authz.status} cannot be deactivated`);
  }
  ctx.body = authorizationView((await acme.store.orders.authorization(authz.id))!, acme.urls);
}

/** POST {} starts validation (s7.5.1); POST-as-GET reads the challenge. */
export async function postChallenge(acme: AcmeContext, ctx: Koa.Context, id: string): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const challenge = await acme.store.orders.challenge(id);
  const authz = challenge && (await ownAuthorization(acme, challenge.authzId, req.account!.id));
  if (!challenge || !authz) throw notFound('this challenge');
  let started = false;
  if (req.payload !== undefined) {
    if (typeof req.payload !== 'object' || req.payload === null || Array.isArray(req.payload)) {
      throw new AcmeProblem('malformed', 'a challenge response is the empty object {}');
    }
    if (authz.status !== 'pending') {
      if (challenge.status === 'pending') throw new AcmeProblem('malformed', `the authorization is ${authz.status}`);
    } else if (challenge.status === 'pending') {
      started = await acme.store.orders.startChallenge(challenge.id);
      if (started) {
        acme.logger.info({ event: 'challenge.started', challenge: challenge.id, type: challenge.type, identifier: authz.identifier.value }, 'validation requested');
        acme.pokeValidator();
      }
    }
  }
  // A POST-as-GET answers with what was just read, a start with the state it wrote; only a POST
  // that changed nothing here reads again, since another request may have changed the challenge.
  const now = started ? { ...challenge, status: 'processing' as const } : req.payload === undefined ? challenge : (await acme.store.orders.challenge(id))!;
  ctx.append('Link', `<${acme.urls.authz(authz.id)}>;rel="up"`);
  if (now.status === 'processing') ctx.set('Retry-After', '1');
  ctx.body = challengeView(now, acme.urls);
}
