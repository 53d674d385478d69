import { portOf } from './http-get.js';
import { fail, type ValidationContext } from './types.js';

export const MAX_REDIRECTS = 3;

/** Where a redirect from `from` leads, refused unless it is http or https on the port configured for it. */
export function redirectTarget(from: URL, location: string | undefined, ctx: ValidationContext): URL {
  if (location === undefined) fail('incorrectResponse', `${from.href} redirected without a Location header`);
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    fail('incorrectResponse', `${from.href} redirected to an invalid URL: ${JSON.stringify(location)}`);
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') {
    fail('incorrectResponse', `${from.href} redirected to ${to.href}; only http and https redirects are followed`);
  }
  // Validation must not become a way to make the CA talk to arbitrary services inside the hospital.
  const allowed = to.protocol === 'http:' ? ctx.http01Port : ctx.tlsAlpn01Port;
  if (portOf(to) !== allowed) {
    fail(
      'incorrectResponse',
      `${from.href} redirected to ${to.href}; ${to.protocol.slice(0, -1)} redirects are followed only to port ${allowed}`,
    );
  }
  return to;
}
