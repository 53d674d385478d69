import { flattenedVerify, type JWK } from 'jose';
import type Koa from 'koa';
import { z } from 'zod';
import type { Account } from '../store/index.js';
import { recordForRequest } from './audit.js';
import { authenticate } from './authenticate.js';
import type { AcmeContext } from './context.js';
import { decodeJson, flattenedJwsSchema, thumbprint } from './jws.js';
import { AcmeProblem } from './problems.js';
import { accountView } from './views.js';

const contactSchema = z.array(z.string().max(254)).max(10);

const newAccountSchema = z
  .object({
    contact: contactSchema.optional(),
    termsOfServiceAgreed: z.boolean().optional(),
    onlyReturnExisting: z.boolean().optional(),
    externalAccountBinding: z.unknown().optional(),
  })
  .loose();

const updateSchema = z.object({ contact: contactSchema.optional(), status: z.literal('deactivated').optional() }).loose();

const EAB_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const MAILTO = /^mailto:[^@\s,;?]+@[a-z0-9.-]+$/i;

/** RFC 8555 s7.3: contacts must be mailto: URLs with one address each. */
function checkContacts(contact: string[]): string[] {
  for (const c of contact) {
    if (!c.startsWith('mailto:')) throw new AcmeProblem('unsupportedContact', `contact "${c}" is not a mailto: URL`);
    if (!MAILTO.test(c)) throw new AcmeProblem('invalidContact', `contact "${c}" is not a single e-mail address`);
  }
  return contact;
}

export async function newAccount(acme: AcmeContext, ctx: Koa.Context): Promise<void> {
  const req = await authenticate(acme, ctx, 'jwk');
  const body = newAccountSchema.safeParse(req.payload ?? {});
  if (!body.success) throw new AcmeProblem('malformed', `newAccount: ${body.error.issues[0]?.path.join('.')}: ${body.error.issues[0]?.message}`);
  const existing = await acme.store.accounts.byThumbprint(req.thumbprint);
  if (existing) return answerExisting(acme, ctx, existing);
  if (body.data.onlyReturnExisting) throw new AcmeProblem('accountDoesNotExist', 'no account exists for this key');
  const contact = checkContacts(body.data.contact ?? []);
  const eab = body.data.externalAccountBinding;
  if (eab === undefined && acme.policy.requireEab) {
    throw new AcmeProblem('externalAccountRequired', 'this CA requires an external account binding (ask hospital IT for an EAB credential)');
  }
  // From here on a refusal is about the EAB credential.
  if (eab !== undefined) ctx.state.refusal = 'eab.used';
  const now = acme.now();
  const create = async () => {
    const credential = eab === undefined ? undefined : await checkEab(acme, eab, req.jwk);
    return acme.store.knex.transaction(async (trx) => {
      const created = await acme.store.accounts.create(
        {
          thumbprint: req.thumbprint,
          jwk: req.jwk as Record<string, unknown>,
          contact,
          eabKid: credential?.kid ?? null,
          deviceId: credential?.deviceId ?? null,
          allowedIdentifiers: credential && credential.identifiers.length ? credential.identifiers : null,
        },
        now,
        trx,
      );
      // The binding and the account are one fact: a credential binds one key, once.
      if (credential && !(await acme.store.eab.bind(credential.kid, created.id, now, trx))) {
        throw new AcmeProblem('unauthorized', 'this EAB credential is already bound to another account');
      }
      return created;
    });
  };
  let account;
  try {
    account = await create();
  } catch (err) {
    // The same key registering at two instances at once: the other request made the account (its
    // unique key refused this one, or its binding used the credential first). RFC 8555 s7.3.1.
    const raced = await acme.store.accounts.byThumbprint(req.thumbprint);
    if (!raced) throw err;
    return answerExisting(acme, ctx, raced);
  }
  acme.logger.info({ event: 'account.created', account: account.id, eabKid: account.eabKid, device: account.deviceId }, 'ACME account created');
  ctx.state.signer = { thumbprint: account.thumbprint, accountId: account.id, deviceId: account.deviceId };
  if (account.eabKid) {
    await recordForRequest(acme, ctx, { type: 'eab.used', outcome: 'success', subject: { kind: 'eab', id: account.eabKid }, details: { account: account.id, device: account.deviceId } });
  }
  await recordForRequest(acme, ctx, { type: 'account.created', outcome: 'success', subject: { kind: 'account', id: account.id }, details: { eabKid: account.eabKid, device: account.deviceId } });
  ctx.status = 201;
  ctx.set('Location', acme.urls.account(account.id));
  ctx.body = accountView(account, acme.urls);
}

/** RFC 8555 s7.3.1: the key already has an account; 200 with its URL. */
function answerExisting(acme: AcmeContext, ctx: Koa.Context, account: Account): void {
  ctx.status = 200;
  ctx.set('Location', acme.urls.account(account.id));
  ctx.body = accountView(account, acme.urls);
}

/** RFC 8555 s7.3.4: an HMAC JWS over the new account key, by a credential the CA issued and nobody used. */
async function checkEab(acme: AcmeContext, raw: unknown, accountJwk: JWK) {
  const parsed = flattenedJwsSchema.safeParse(raw);
  if (!parsed.success) throw new AcmeProblem('malformed', 'externalAccountBinding is not a flattened JWS');
  const header = z
    .object({ alg: z.string(), kid: z.string().max(200), url: z.string() })
    .loose()
    .safeParse(decodeJson(parsed.data.protected, 'the EAB protected header'));
  if (!header.success) throw new AcmeProblem('malformed', 'the EAB protected header needs alg, kid and url');
  if ('nonce' in header.data) throw new AcmeProblem('malformed', 'the EAB protected header must not carry a nonce');
  if (!EAB_ALGORITHMS.includes(header.data.alg)) throw new AcmeProblem('badSignatureAlgorithm', `EAB algorithm "${header.data.alg}" is not supported`, { algorithms: EAB_ALGORITHMS });
  if (header.data.url !== acme.urls.newAccount) throw new AcmeProblem('unauthorized', 'the EAB url must be the newAccount URL');
  const credential = await acme.store.eab.byKid(header.data.kid);
  if (!credential) throw new AcmeProblem('unauthorized', `unknown EAB key identifier "${header.data.kid}"`);
  if (credential.accountId) throw new AcmeProblem('unauthorized', 'this EAB credential is already bound to another account');
  let payload: Uint8Array;
  try {
    ({ payload } = await flattenedVerify(parsed.data, Buffer.from(credential.hmacKey, 'base64url'), { algorithms: EAB_ALGORITHMS }));
  } catch {
    throw new AcmeProblem('unauthorized', 'the EAB MAC does not verify with this credential');
  }
  let bound: unknown;
  try {
    bound = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new AcmeProblem('malformed', 'the EAB payload is not a JWK');
  }
  const same = await thumbprint(bound as JWK).then((t) => thumbprint(accountJwk).then((a) => a === t)).catch(() => false);
  if (!same) throw new AcmeProblem('unauthorized', 'the EAB binds a different key than the one that signed this request');
  return credential;
}

/** POST to the account URL: POST-as-GET, contact update, or deactivation (RFC 8555 s7.3.2, s7.3.6). */
export async function updateAccount(acme: AcmeContext, ctx: Koa.Context, id: string): Promise<void> {
  const req = await authenticate(acme, ctx, 'kid');
  const account = ownAccount(req.account!, id);
  if (req.payload !== undefined) {
    const body = updateSchema.safeParse(req.payload);
    if (!body.success) throw new AcmeProblem('malformed', `account update: ${body.error.issues[0]?.message}`);
    const contact = body.data.contact ? checkContacts(body.data.contact) : undefined;
    await acme.store.accounts.update(account.id, { ...(contact ? { contact } : {}), ...(body.data.status ? { status: body.data.status } : {}) });
    if (body.data.status) {
      acme.logger.info({ event: 'account.deactivated', account: account.id }, 'ACME account deactivated');
      await recordForRequest(acme, ctx, { type: 'account.deactivated', outcome: 'success', subject: { kind: 'account', id: account.id } });
    }
  }
  ctx.body = accountView((await acme.store.accounts.byId(account.id))!, acme.urls);
}

export function ownAccount(account: Account, id: string): Account {
  if (account.id !== id) throw new AcmeProblem('unauthorized', 'this account URL belongs to another account');
  return account;
}
