import type { Account, Authorization, Challenge, Order } from '../store/index.js';
import type { AcmeUrls } from './urls.js';

/** JSON representations of ACME resources (RFC 8555 s7.1). */

export function accountView(a: Account, urls: AcmeUrls) {
  return { status: a.status, contact: a.contact, orders: urls.orders(a.id), createdAt: a.createdAt.toISOString() };
}

export function orderView(o: Order, authzIds: string[], urls: AcmeUrls) {
  return {
    status: o.status,
    expires: o.expiresAt.toISOString(),
    identifiers: o.identifiers,
    ...(o.notBefore ? { notBefore: o.notBefore.toISOString() } : {}),
    ...(o.notAfter ? { notAfter: o.notAfter.toISOString() } : {}),
    profile: o.profile,
    ...(o.replaces ? { replaces: o.replaces } : {}),
    ...(o.error ? { error: o.error } : {}),
    authorizations: authzIds.map((id) => urls.authz(id)),
    finalize: urls.finalize(o.id),
    ...(o.certificateSerial && o.status === 'valid' ? { certificate: urls.certificate(o.certificateSerial) } : {}),
  };
}

export function challengeView(c: Challenge, urls: AcmeUrls) {
  return {
    type: c.type,
    url: urls.challenge(c.id),
    token: c.token,
    status: c.status,
    ...(c.validatedAt ? { validated: c.validatedAt.toISOString() } : {}),
    ...(c.error ? { error: c.error } : {}),
  };
}

export function authorizationView(a: Authorization, urls: AcmeUrls) {
  return {
    identifier: a.identifier,
    status: a.status,
    expires: a.expiresAt.toISOString(),
    challenges: a.challenges.map((c) => challengeView(c, urls)),
    ...(a.wildcard ? { wildcard: true } : {}),
  };
}
