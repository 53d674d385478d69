import type { JWK } from 'jose';
import type Koa from 'koa';
import type { Account } from '../store/index.js';
import { readBody } from './body.js';
import type { RequestSigner } from './audit.js';
import type { AcmeContext } from './context.js';
import { checkAccountKey, parseJws, parsePayload, thumbprint, verifyWithJwk, type FlattenedJws, type ProtectedHeader } from './jws.js';
import { AcmeProblem } from './problems.js';

export interface SignedRequest {
  header: ProtectedHeader;
  jws: FlattenedJws;
  /** Parsed JSON payload; undefined for POST-as-GET. */
  payload: unknown;
  /** The key that signed: the account's key for "kid" requests. */
  jwk: JWK;
  thumbprint: string;
  /** Present for "kid" requests (always a valid account). */
  account?: Account;
}

/**
 * Checks an ACME POST per RFC 8555 s6.2-6.5: content type, size, JWS shape and algorithm, the url,
 * the single-use nonce, the key ("jwk" or an existing account's "kid") and the signature.
 */
export async function authenticate(
  acme: AcmeContext,
  ctx: Koa.Context,
  keyMode: 'jwk' | 'kid' | 'either',
): Promise<SignedRequest> {
  if (ctx.request.type !== 'application/jose+json') {
    throw new AcmeProblem('malformed', 'Content-Type must be application/jose+json', { status: 415 });
  }
  const raw = await readBody(ctx.req);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', 'the request body is not JSON');
  }
  const { jws, header } = parseJws(body);
  const expectedUrl = acme.urls.directory.replace(/\/acme\/directory$/, '') + ctx.path;
  if (header.url !== expectedUrl) throw new AcmeProblem('unauthorized', `the JWS url "${header.url}" is not the request URL ${expectedUrl}`);
  if (!header.nonce || !(await acme.store.nonces.consume(header.nonce, acme.now()))) {
    throw new AcmeProblem('badNonce', 'the nonce is missing, unknown, expired or already used');
  }
  if (header.jwk && keyMode === 'kid') throw new AcmeProblem('malformed', 'this request must be signed by an account ("kid"), not a "jwk"');
  if (header.kid && keyMode === 'jwk') throw new AcmeProblem('malformed', 'this request must carry the account key as "jwk", not a "kid"');

  let jwk: JWK;
  let account: Account | undefined;
  if (header.kid !== undefined) {
    const prefix = acme.urls.account('');
    const id = header.kid.startsWith(prefix) ? header.kid.slice(prefix.length) : '';
    account = id && !id.includes('/') ? await acme.store.accounts.byId(id) : undefined;
    if (!account) throw new AcmeProblem('accountDoesNotExist', `no account at ${header.kid}`);
    if (account.status !== 'valid') throw new AcmeProblem('unauthorized', `the account is ${account.status}`);
    jwk = account.jwk as JWK;
  } else {
    jwk = checkAccountKey(header.jwk!, header.alg);
  }
  const payloadBytes = await verifyWithJwk(jws, jwk, header.alg);
  const signedBy = account?.thumbprint ?? (await thumbprint(jwk));
  ctx.state.signer = { thumbprint: signedBy, ...(account ? { accountId: account.id, deviceId: account.deviceId } : {}) } satisfies RequestSigner;
  return {
    header,
    jws,
    payload: parsePayload(payloadBytes),
    jwk,
    thumbprint: signedBy,
    ...(account ? { account } : {}),
  };
}
