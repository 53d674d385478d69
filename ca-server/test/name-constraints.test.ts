import { describe, expect, it } from 'vitest';
import { normaliseCidr, normaliseDnsSuffix, withinConstraints, type ConstraintSet } from '../src/pki/name-constraints.js';

const set: ConstraintSet = { permitDns: ['hospital.test'], permitIp: ['10.20.0.0/16', 'fd00:20::/32'], excludeDns: ['guest.hospital.test'], excludeIp: ['10.20.99.0/24'] };

describe('RFC 5280 name constraints', () => {
  it.each([
    [{ type: 'dns', value: 'hospital.test' }, true],
    [{ type: 'dns', value: 'gw1.radiology.hospital.test' }, true],
    [{ type: 'dns', value: 'evilhospital.test' }, false],
    [{ type: 'dns', value: 'hospital.test.evil.example' }, false],
    [{ type: 'dns', value: 'kiosk.guest.hospital.test' }, false],
    [{ type: 'ip', value: '10.20.1.5' }, true],
    [{ type: 'ip', value: '10.21.1.5' }, false],
    [{ type: 'ip', value: '10.20.99.4' }, false],
    [{ type: 'ip', value: 'fd00:20::5' }, true],
    [{ type: 'ip', value: 'fd00:21::5' }, false],
  ] as const)('%o -> %s', (id, expected) => {
    expect(withinConstraints(id, set)).toBe(expected);
  });

  it('leaves a name type without permitted subtrees unconstrained', () => {
    expect(withinConstraints({ type: 'ip', value: '192.0.2.1' }, { ...set, permitIp: [], excludeIp: [] })).toBe(true);
  });

  it('rejects malformed suffixes and CIDRs', () => {
    expect(() => normaliseDnsSuffix('bad suffix')).toThrow('not a DNS suffix');
    expect(normaliseDnsSuffix('.Hospital.Test')).toBe('hospital.test');
    expect(() => normaliseCidr('10.0.0.0/33')).toThrow('not a CIDR');
    expect(() => normaliseCidr('10.0.0.0')).toThrow('not a CIDR');
    expect(normaliseCidr('fd00::/8')).toBe('fd00::/8');
  });
});
