import { isIP, isIPv4, isIPv6 } from 'node:net';
import { beforeDeadline, timeoutDetail } from './deadline.js';
import { fail, type ValidationContext } from './types.js';

/** The addresses to connect to for a host: an IP literal is its own, a name gets its first AAAA and first A. */
export async function addressesOf(host: string, ctx: ValidationContext): Promise<string[]> {
  if (isIP(host)) return [host];
  const found = await ask(`A/AAAA for ${host}`, ctx, () => ctx.resolver.addresses(host));
  // One address per family, as Let's Encrypt does: a name with many records cannot stretch a validation.
  const picked = [found.find((a) => isIPv6(a)), found.find((a) => isIPv4(a))].filter((a) => a !== undefined);
  if (picked.length === 0) fail('dns', `DNS problem: no A or AAAA records found for ${host}`);
  return picked;
}

export function txtRecords(name: string, ctx: ValidationContext): Promise<string[]> {
  return ask(`TXT for ${name}`, ctx, () => ctx.resolver.txt(name));
}

/** Runs one resolver call under the deadline; every way it can fail becomes a `dns` problem. */
async function ask<T>(what: string, ctx: ValidationContext, run: () => Promise<T>): Promise<T> {
  try {
    return await beforeDeadline(run(), ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) fail('dns', timeoutDetail(`DNS problem looking up ${what}`, ctx));
    fail('dns', `DNS problem: ${err instanceof Error ? err.message : String(err)}`);
  }
}
