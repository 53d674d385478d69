import type Koa from 'koa';
import type { AuditActor, AuditEvent, AuditEventType } from '../audit/event.js';
import { peerAddress } from '../server/peer-address.js';
import type { AcmeContext } from './context.js';
import type { AcmeProblem } from './problems.js';
import { ACME_PREFIX } from './urls.js';

/** Who signed the request, kept on the Koa state by authenticate() for the request's audit events. */
export interface RequestSigner {
  accountId?: string;
  deviceId?: string | null;
  thumbprint: string;
}

/** The account that signed, or for a request signed by a bare key (newAccount, revocation by key) that key. */
function requestActor(ctx: Koa.Context): AuditActor {
  const signer = ctx.state.signer as RequestSigner | undefined;
  if (signer?.accountId) return { kind: 'account', id: signer.accountId, ...(signer.deviceId ? { name: signer.deviceId } : {}) };
  return { kind: 'account', id: signer ? `jwk:${signer.thumbprint}` : 'unauthenticated' };
}


/** Records an event of this request: the actor is its signer and the source its peer address. */
export function recordForRequest(acme: AcmeContext, ctx: Koa.Context, e: Omit<AuditEvent, 'actor' | 'source'> & { actor?: AuditActor }): Promise<void> {
  return acme.audit.record({ actor: requestActor(ctx), source: peerAddress(ctx) ?? 'unknown', ...e });
}

/** Refusals worth an audit entry, by route; a handler may name a more precise event (ctx.state.refusal). */
const REFUSALS: Record<string, AuditEventType> = {
  [`${ACME_PREFIX}/new-account`]: 'account.created',
  [`${ACME_PREFIX}/key-change`]: 'account.key-changed',
  [`${ACME_PREFIX}/new-order`]: 'order.refused',
  [`${ACME_PREFIX}/order/:id/finalize`]: 'certificate.issued',
  [`${ACME_PREFIX}/revoke-cert`]: 'certificate.revoked',
};

/**
 * A security action refused after its signature checked out. Requests that never got that far
 * (bad JWS, stale nonce) are not audited: anyone on the network can send those by the thousand.
 */
export async function recordRefusal(acme: AcmeContext, ctx: Koa.Context, problem: AcmeProblem): Promise<void> {
  const type = (ctx.state.refusal as AuditEventType | undefined) ?? REFUSALS[(ctx as { _matchedRoute?: string })._matchedRoute ?? ''];
  if (!type || !ctx.state.signer || problem.status >= 500) return;
  const order = type === 'certificate.issued' ? ctx.params?.id : undefined;
  await recordForRequest(acme, ctx, {
    type,
    outcome: 'failure',
    ...(order ? { subject: { kind: 'order', id: order } } : {}),
    details: { problem: problem.type, detail: problem.message },
  });
}
