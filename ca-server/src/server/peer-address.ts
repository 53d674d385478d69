import type Koa from 'koa';

/**
 * The TCP peer of a request, as the audit trail, sessions and agent reports name it. The apps run
 * with proxy off, so no header can claim another address; an IPv4 peer on a dual-stack socket is
 * named as IPv4, so one device is one address whichever listener it reached.
 */
export function peerAddress(ctx: Koa.Context): string | undefined {
  const address = ctx.req.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
