import { calculateJwkThumbprint } from 'jose';
import { downloadCertificate, finalizeOrder, getAuthorization, getOrder, newOrder, respondToChallenge, type AuthorizationBody, type Identifier, type OrderBody } from './api.js';
import { AcmeError } from './errors.js';
import { retryAfterMs } from './retry-after.js';
import type { AcmeTransport } from './transport.js';

/** Answers challenges of one type: puts the proof in place, and takes it away afterwards. */
export interface ChallengeSolver {
  type: 'http-01' | 'tls-alpn-01' | 'dns-01';
  present(identifier: Identifier, token: string, keyAuthorization: string): Promise<void>;
  cleanup(identifier: Identifier, token: string): Promise<void>;
}

export interface OrderRequest {
  identifiers: Identifier[];
  profile?: string;
  replaces?: string;
  /** DER CSR made on the device for exactly these identifiers. */
  csr: Uint8Array;
  solvers: ChallengeSolver[];
  /** Bounds the whole order. */
  timeoutMs?: number;
  /** First pause between status polls where the CA names none (default 1 s); it doubles up to 1 s. */
  pollMs?: number;
}

const POLL_MS = 1000;
/** Finalize requests for one order at most: the first, and retries after its answer was lost. */
const FINALIZE_ATTEMPTS = 3;

/** The n-th pause (from 0): short polls find a quick validation at once, a slow one is not hammered. */
const pollDelay = (pollMs: number, n: number) => Math.min(pollMs * 2 ** n, Math.max(pollMs, POLL_MS));

/** Order, prove every identifier, finalize, download: RFC 8555 s7.4 end to end. Returns the PEM chain. */
export async function obtainCertificate(t: AcmeTransport, req: OrderRequest, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<string> {
  const deadline = Date.now() + (req.timeoutMs ?? 300_000);
  const pollMs = req.pollMs ?? POLL_MS;
  const created = await newOrder(t, { identifiers: req.identifiers, ...(req.profile ? { profile: req.profile } : {}), ...(req.replaces ? { replaces: req.replaces } : {}) });
  const orderUrl = created.location;
  if (!orderUrl) throw new Error('the CA sent no order URL');
  const thumbprint = await calculateJwkThumbprint(t.o.key.jwk, 'sha256');
  for (const url of created.body.authorizations) {
    await authorize(t, url, thumbprint, req.solvers, deadline, pollMs, sleep);
  }
  let order = await waitForOrder(t, orderUrl, ['ready', 'valid'], deadline, pollMs, sleep);
  for (let attempt = 1; order.status === 'ready'; attempt++) {
    try {
      // A CA that issues at once answers finalize with the valid order: no poll needed.
      order = (await finalizeOrder(t, order.finalize, req.csr)).body;
    } catch (err) {
      // orderNotReady after a retried finalize: the first went through, or the CA instance that
      // took it died holding the order (RFC 8555 s7.4). The order says which; poll it.
      if (!(err instanceof AcmeError && err.is('orderNotReady')) || attempt >= FINALIZE_ATTEMPTS) throw err;
    }
    if (order.status !== 'valid') order = await waitForOrder(t, orderUrl, ['ready', 'valid'], deadline, pollMs, sleep);
  }
  if (!order.certificate) throw new Error('the order is valid but names no certificate');
  return (await downloadCertificate(t, order.certificate)).body;
}

async function authorize(t: AcmeTransport, url: string, thumbprint: string, solvers: ChallengeSolver[], deadline: number, pollMs: number, sleep: (ms: number) => Promise<unknown>): Promise<void> {
  const authz = (await getAuthorization(t, url)).body;
  if (authz.status === 'valid') return;
  if (authz.status !== 'pending') throw new Error(`authorization for ${authz.identifier.value} is ${authz.status}`);
  const pick = solvers.map((s) => ({ solver: s, challenge: authz.challenges.find((c) => c.type === s.type) })).find((p) => p.challenge);
  if (!pick?.challenge) throw new Error(`no configured challenge type fits ${authz.identifier.value} (offered: ${authz.challenges.map((c) => c.type).join(', ')})`);
  const { solver, challenge } = pick;
  const keyAuthorization = `${challenge.token}.${thumbprint}`;
  await solver.present(authz.identifier, challenge.token, keyAuthorization);
  try {
    await respondToChallenge(t, challenge.url);
    let current: AuthorizationBody = authz;
    for (let n = 0; current.status === 'pending'; n++) {
      if (Date.now() > deadline) throw new Error(`validation of ${authz.identifier.value} did not finish in time`);
      await sleep(pollDelay(pollMs, n));
      const res = await getAuthorization(t, url);
      current = res.body;
    }
    if (current.status !== 'valid') {
      const failed = current.challenges.find((c) => c.type === challenge.type)?.error;
      throw new AcmeError(403, failed?.type ?? 'urn:ietf:params:acme:error:unauthorized', `validation of ${authz.identifier.value} failed: ${failed?.detail ?? current.status}`);
    }
  } finally {
    await solver.cleanup(authz.identifier, challenge.token);
  }
}

async function waitForOrder(t: AcmeTransport, url: string, wanted: OrderBody['status'][], deadline: number, pollMs: number, sleep: (ms: number) => Promise<unknown>): Promise<OrderBody> {
  for (let n = 0; ; n++) {
    const res = await getOrder(t, url);
    if (wanted.includes(res.body.status)) return res.body;
    if (res.body.status === 'invalid') {
      throw new AcmeError(403, res.body.error?.type ?? 'urn:ietf:params:acme:error:unauthorized', res.body.error?.detail ?? 'the order became invalid');
    }
    if (Date.now() > deadline) throw new Error(`the order stayed ${res.body.status} too long`);
    await sleep(retryAfterMs(res.headers['retry-after']) ?? pollDelay(pollMs, n));
  }
}
