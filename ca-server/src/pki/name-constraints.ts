import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { BlockList, isIP } from 'node:net';

export interface Identifier {
  type: 'dns' | 'ip';
  value: string;
}

export interface ConstraintSet {
  permitDns: string[];
  permitIp: string[];
  excludeDns: string[];
  excludeIp: string[];
}

export class NameConstraintError extends Error {
  override readonly name = 'NameConstraintError';
}

/** Normalises a DNS suffix ("hospital.test" or ".hospital.test") to the RFC 5280 form without a dot. */
export function normaliseDnsSuffix(suffix: string): string {
  const s = suffix.trim().toLowerCase().replace(/^\./, '');
  if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(s)) {
    throw new NameConstraintError(`"${suffix}" is not a DNS suffix`);
  }
  return s;
}

export function normaliseCidr(cidr: string): string {
  const [addr, prefix, ...rest] = cidr.trim().split('/');
  const family = isIP(addr ?? '');
  const max = family === 4 ? 32 : 128;
  const bits = Number(prefix);
  if (!family || rest.length > 0 || prefix === undefined || !/^\d+$/.test(prefix) || bits > max) {
    throw new NameConstraintError(`"${cidr}" is not a CIDR block such as 10.20.0.0/16 or fd00::/8`);
  }
  return `${addr}/${bits}`;
}

/** The critical nameConstraints extension for an issuing CA. */
export function nameConstraintsExtension(set: ConstraintSet): x509.Extension | undefined {
  const permitted = [
    ...set.permitDns.map((d) => new GeneralName({ dNSName: normaliseDnsSuffix(d) })),
    ...set.permitIp.map((c) => new GeneralName({ iPAddress: normaliseCidr(c) })),
  ];
  const excluded = [
    ...set.excludeDns.map((d) => new GeneralName({ dNSName: normaliseDnsSuffix(d) })),
    ...set.excludeIp.map((c) => new GeneralName({ iPAddress: normaliseCidr(c) })),
  ];
  if (permitted.length === 0 && excluded.length === 0) return undefined;
  const subtrees = (names: GeneralName[]) =>
    names.length ? new GeneralSubtrees(names.map((base) => new GeneralSubtree({ base }))) : undefined;
  const value = new NameConstraints({});
  const p = subtrees(permitted);
  const e = subtrees(excluded);
  if (p) value.permittedSubtrees = p;
  if (e) value.excludedSubtrees = e;
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

/** Reads the name constraints a CA certificate carries (empty sets when it has none). */
export function readNameConstraints(cert: x509.X509Certificate): ConstraintSet {
  const set: ConstraintSet = { permitDns: [], permitIp: [], excludeDns: [], excludeIp: [] };
  const ext = cert.getExtension(id_ce_nameConstraints);
  if (!ext) return set;
  const nc = AsnConvert.parse(ext.value, NameConstraints);
  const collect = (subtrees: GeneralSubtrees | undefined, dns: string[], ip: string[]) => {
    for (const { base } of subtrees ?? []) {
      if (base.dNSName !== undefined) dns.push(base.dNSName.toLowerCase().replace(/^\./, ''));
      if (base.iPAddress !== undefined) ip.push(base.iPAddress);
    }
  };
  collect(nc.permittedSubtrees, set.permitDns, set.permitIp);
  collect(nc.excludedSubtrees, set.excludeDns, set.excludeIp);
  return set;
}

function dnsWithin(name: string, suffix: string): boolean {
  const n = name.toLowerCase().replace(/^\*\./, '');
  return n === suffix || n.endsWith(`.${suffix}`);
}

function ipWithin(address: string, cidr: string): boolean {
  const [base, prefix] = cidr.split('/');
  const family = isIP(base ?? '') === 6 ? 'ipv6' : 'ipv4';
  const addressFamily = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (family !== addressFamily) return false; // an IPv4 block never holds an IPv6 address
  const block = new BlockList();
  block.addSubnet(base!, Number(prefix), family);
  return block.check(address, family);
}

/** True when the identifier satisfies RFC 5280 s4.2.1.10 for this constraint set. */
export function withinConstraints(id: Identifier, set: ConstraintSet): boolean {
  const [permitted, excluded, within] =
    id.type === 'dns'
      ? [set.permitDns, set.excludeDns, (c: string) => dnsWithin(id.value, c)]
      : [set.permitIp, set.excludeIp, (c: string) => ipWithin(id.value, c)];
  if (excluded.some(within)) return false;
  // A name type with no permitted subtree is unconstrained for that type (RFC 5280).
  return permitted.length === 0 || permitted.some(within);
}

export function describeConstraints(set: ConstraintSet): string {
  const parts = [
    set.permitDns.length ? `permitted DNS ${set.permitDns.join(', ')}` : '',
    set.permitIp.length ? `permitted IP ${set.permitIp.join(', ')}` : '',
    set.excludeDns.length ? `excluded DNS ${set.excludeDns.join(', ')}` : '',
    set.excludeIp.length ? `excluded IP ${set.excludeIp.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'none';
}
