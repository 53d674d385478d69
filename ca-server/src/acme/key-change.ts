import type { JWK } from 'jose';
import type Koa from 'koa';
import { z } from 'zod';
import { recordForRequest } from './audit.js';
import { authenticate } from './authenticate.js';
import type { AcmeContext } from './context.js';
import { checkAccountKey, parseJws, thumbprint, verifyWithJwk, parsePayload } from './jws.js';
import { AcmeProblem } from './problems.js';
import { accountView } from './views.js';

const innerPayloadSchema = z.object({ account: z.string(), oldKey: z.record(z.string(), z.unknown()) }).loose();

/** RFC 8555 s7.3.5: the outer JWS by the account, the inner one by the new key over the old one. */
export async function keyChange(acme: AcmeContext, ctx: Koa.Context): Promise<void> {
  const outer = await authenticate(acme, ctx, 'kid');
  const account = outer.account!;
  const { jws, header } = parseJws(outer.payload);
  if (!header.jwk) throw new AcmeProblem('malformed', 'the inner JWS must carry the new key as "jwk"');
  if (header.nonce !== undefined) throw new AcmeProblem('malformed', 'the inner JWS must not carry a nonce');
  if (header.url !== outer.header.url) throw new AcmeProblem('malformed', 'the inner JWS url must equal the outer url');
  const newKey = checkAccountKey(header.jwk, header.alg);
  const inner = innerPayloadSchema.safeParse(parsePayload(await verifyWithJwk(jws, newKey, header.alg)));
  if (!inner.success) throw new AcmeProblem('malformed', 'the inner payload needs "account" and "oldKey"');
  if (inner.data.account !== acme.urls.account(account.id)) throw new AcmeProblem('malformed', 'the inner payload names another account');
  if ((await thumbprint(inner.data.oldKey as JWK)) !== account.thumbprint) throw new AcmeProblem('malformed', 'oldKey is not the account key');
  const newThumbprint = await thumbprint(newKey);
  const holder = await acme.store.accounts.byThumbprint(newThumbprint);
  if (holder) {
    ctx.set('Location', acme.urls.account(holder.id));
    throw new AcmeProblem('malformed', 'the new key already belongs to an account', { status: 409 });
  }
  if (!(await acme.store.accounts.changeKey(account.id, newKey as Record<string, unknown>, newThumbprint))) {
    throw new AcmeProblem('malformed', 'the new key already belongs to an account', { status: 409 });
  }
  acme.logger.info({ event: 'account.keyChanged', account: account.id }, 'ACME account key rolled over');
  await recordForRequest(acme, ctx, {
    type: 'account.key-changed',
    outcome: 'success',
    subject: { kind: 'account', id: account.id },
    details: { oldThumbprint: account.thumbprint, newThumbprint },
  });
  ctx.body = accountView((await acme.store.accounts.byId(account.id))!, acme.urls);
}
