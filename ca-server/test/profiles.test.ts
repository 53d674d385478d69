import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_PROFILES_DIR, loadProfiles } from '../src/pki/profiles.js';
import { runCa } from './helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wardcert-profiles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('profiles', () => {
  it('ships dicom-node, hl7-endpoint and ca-tls with the agreed limits', async () => {
    const profiles = await loadProfiles();
    for (const name of ['dicom-node', 'hl7-endpoint']) {
      const p = profiles.get(name)!;
      expect(p.extendedKeyUsage).toEqual(['serverAuth', 'clientAuth']);
      expect(p.validity).toEqual({ default: 72 * 3600_000, max: 30 * 86_400_000 });
      expect(p.legacyRsa2048).toBe(false);
      expect(p.identifiers.types).toEqual(['dns', 'ip']);
    }
    expect(profiles.get('ca-tls')!.extendedKeyUsage).toEqual(['serverAuth']);
  });

  it('profile check prints each bundled profile', async () => {
    const r = await runCa(['profile', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok dicom-node');
    expect(r.stdout).toContain('ok hl7-endpoint');
    expect(r.stdout).toContain('ok ca-tls');
  });

  it('names the file and the key of every error', async () => {
    await copyFile(join(BUNDLED_PROFILES_DIR, 'dicom-node.yaml'), join(dir, 'dicom-node.yaml'));
    await writeFile(join(dir, 'bad.yaml'), [
      'name: bad',
      'description: broken on purpose',
      'validity: { default: 40d, max: 30d }',
      'keyAlgorithms: [ecdsa-p256, rsa-1024]',
      'keyUsage: [digitalSignature]',
      'extendedKeyUsage: [serverAuth]',
      'identifiers: { types: [dns, email], max: 5 }',
      'surprise: true',
    ].join('\n'));
    const r = await runCa(['profile', 'check', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.yaml: validity.default: default must not exceed max');
    expect(r.stderr).toContain('bad.yaml: keyAlgorithms.1:');
    expect(r.stderr).toContain('bad.yaml: identifiers.types.1:');
    expect(r.stderr).toMatch(/bad\.yaml: \(top level\): .*surprise/);
  });

  it('refuses a profile whose name differs from its file and malformed YAML', async () => {
    const d = await mkdtemp(join(dir, 'x-'));
    await writeFile(join(d, 'mismatch.yaml'), 'name: other\ndescription: d\nvalidity: { default: 1h, max: 2h }\nkeyAlgorithms: [ecdsa-p256]\nkeyUsage: [digitalSignature]\nextendedKeyUsage: [serverAuth]\nidentifiers: { types: [dns], max: 1 }\n');
    await writeFile(join(d, 'yaml.yaml'), 'name: [unclosed\n');
    const r = await runCa(['profile', 'check', d]);
    expect(r.stderr).toContain('mismatch.yaml: name: "other" must match the file name');
    expect(r.stderr).toContain('yaml.yaml:');
  });
});
