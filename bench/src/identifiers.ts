import type { Identifier } from '@wardcert/agent';

const PER_BLOCK = 254 * 254;

/**
 * Device n's identifier: an address in 127.0.0.0/8 (127.1.1.1, 127.1.1.2, ...; no DNS needed,
 * every one reaches loopback) or, with a suffix, a name under it that the CA's resolver answers.
 */
export function deviceIdentifier(n: number, namesSuffix: string | undefined): Identifier {
  if (namesSuffix) return { type: 'dns', value: `d${n}.${namesSuffix}` };
  const block = Math.floor(n / PER_BLOCK);
  const rest = n % PER_BLOCK;
  if (block > 253) throw new Error('more devices than 127.0.0.0/8 has addresses for; use --names-suffix');
  return { type: 'ip', value: `127.${1 + block}.${1 + Math.floor(rest / 254)}.${1 + (rest % 254)}` };
}
