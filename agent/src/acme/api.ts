import { FlattenedSign } from 'jose';
import type { AcmeResponse, AcmeTransport } from './transport.js';

/** RFC 8555 resources, one function each, over the signed transport. */

export interface Identifier {
  type: 'dns' | 'ip';
  value: string;
}

export interface OrderBody {
  status: 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
  identifiers: Identifier[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: { type: string; detail: string };
  profile?: string;
}

export interface ChallengeBody {
  type: string;
  url: string;
  token: string;
  status: 'pending' | 'processing' | 'valid' | 'invalid';
  error?: { type: string; detail: string };
}

export interface AuthorizationBody {
  identifier: Identifier;
  status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  challenges: ChallengeBody[];
  wildcard?: boolean;
}

export interface Eab {
  kid: string;
  /** base64url HMAC key, as the CA hands it out. */
  hmacKey: string;
}

export async function newAccount(t: AcmeTransport, o: { contact?: string[]; eab?: Eab; onlyReturnExisting?: boolean }): Promise<AcmeResponse> {
  const dir = await t.directory();
  const payload: Record<string, unknown> = o.onlyReturnExisting ? { onlyReturnExisting: true } : { termsOfServiceAgreed: true, contact: o.contact ?? [] };
  if (o.eab && !o.onlyReturnExisting) {
    // RFC 8555 s7.3.4: the CA's HMAC key signs our public key, binding the two.
    payload.externalAccountBinding = await new FlattenedSign(new TextEncoder().encode(JSON.stringify(t.o.key.jwk)))
      .setProtectedHeader({ alg: 'HS256', kid: o.eab.kid, url: dir.newAccount })
      .sign(Buffer.from(o.eab.hmacKey, 'base64url'));
  }
  const res = await t.post(dir.newAccount, payload, { useJwk: true });
  t.kid = res.location;
  return res;
}

export async function newOrder(t: AcmeTransport, o: { identifiers: Identifier[]; profile?: string; replaces?: string }): Promise<AcmeResponse<OrderBody>> {
  const dir = await t.directory();
  return t.post<OrderBody>(dir.newOrder, {
    identifiers: o.identifiers,
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.replaces ? { replaces: o.replaces } : {}),
  });
}

export const getOrder = (t: AcmeTransport, url: string) => t.post<OrderBody>(url, undefined);
export const getAuthorization = (t: AcmeTransport, url: string) => t.post<AuthorizationBody>(url, undefined);
export const respondToChallenge = (t: AcmeTransport, url: string) => t.post<ChallengeBody>(url, {});
export const finalizeOrder = (t: AcmeTransport, url: string, csrDer: Uint8Array) =>
  t.post<OrderBody>(url, { csr: Buffer.from(csrDer).toString('base64url') });
export const downloadCertificate = (t: AcmeTransport, url: string) => t.post<string>(url, undefined, { raw: true });

/** RFC 9773: unauthenticated GET of the suggested renewal window. */
export async function renewalInfo(t: AcmeTransport, certId: string) {
  const dir = await t.directory();
  if (!dir.renewalInfo) return undefined;
  return t.getJson<{ suggestedWindow: { start: string; end: string }; explanationURL?: string }>(`${dir.renewalInfo}/${certId}`);
}
