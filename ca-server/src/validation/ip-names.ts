import { isIPv6 } from 'node:net';

/** The canonical text of an IP address (lower case, shortest IPv6 form), so equal addresses compare equal. */
export function canonicalIp(ip: string): string {
  return isIPv6(ip) ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : new URL(`http://${ip}/`).hostname;
}

/** The reverse-mapping name of an address (in-addr.arpa / ip6.arpa), the SNI of an IP tls-alpn-01 (RFC 8738 s6). */
export function reverseName(ip: string): string {
  const canonical = canonicalIp(ip);
  if (!isIPv6(canonical)) return `${canonical.split('.').reverse().join('.')}.in-addr.arpa`;
  // The canonical form has only hex groups (an embedded IPv4 becomes two) and at most one '::'.
  const [head = '', tail] = canonical.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const zeros = Array<string>(8 - left.length - right.length).fill('0');
  const hex = [...left, ...zeros, ...right].map((group) => group.padStart(4, '0')).join('');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}
