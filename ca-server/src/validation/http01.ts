import { firstReachable } from './connect.js';
import { hostOf, httpGet } from './http-get.js';
import { addressesOf } from './lookup.js';
import { MAX_REDIRECTS, redirectTarget } from './redirect.js';
import { fail, type Identifier, type ValidationContext } from './types.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** RFC 8555 s8.3 and RFC 8738 s5: the key authorization at /.well-known/acme-challenge/<token>. Returns the address used. */
export async function validateHttp01(
  identifier: Identifier,
  token: string,
  keyAuthorization: string,
  ctx: ValidationContext,
): Promise<string> {
  const host = identifier.type === 'ip' && identifier.value.includes(':') ? `[${identifier.value}]` : identifier.value;
  let url: URL;
  try {
    url = new URL(`http://${host}:${ctx.http01Port}/.well-known/acme-challenge/${token}`);
  } catch {
    fail('malformed', `${identifier.value} cannot be the host of an http-01 URL`);
  }
  for (let redirects = 0; ; redirects++) {
    const target = url;
    const addresses = await addressesOf(hostOf(target), ctx);
    const { value: answer, address } = await firstReachable(addresses, ctx, (a) => httpGet(target, a, ctx));
    if (REDIRECT_STATUSES.has(answer.status)) {
      if (redirects === MAX_REDIRECTS) {
        fail('incorrectResponse', `more than ${MAX_REDIRECTS} redirects, the last from ${url.href}`);
      }
      url = redirectTarget(url, answer.location, ctx);
      continue;
    }
    if (answer.status !== 200) fail('unauthorized', `${url.href} answered with HTTP status ${answer.status}, not 200`);
    if (answer.body.trim() !== keyAuthorization) {
      const start = JSON.stringify(answer.body.trim().slice(0, 64));
      fail('unauthorized', `the body at ${url.href} is not the key authorization; it starts ${start}`);
    }
    return address;
  }
}
