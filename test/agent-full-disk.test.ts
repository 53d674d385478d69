import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from './helpers/agent-cli.js';
import { startAgentCa, writeAgentConfig, type AgentCa } from './helpers/agent-ca.js';
import { exec, serialOf } from './helpers/peers.js';
import { runWith } from './helpers/tools.js';

/**
 * A full disk leaves the old files intact: output.dir on a small tmpfs filled to the last byte, a
 * forced renewal, and then the same after space is freed. Mounting needs root; CI runs as root.
 */

const TIMEOUT = 120_000;
const OUTPUTS = ['bundle.p12', 'cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem', 'trust.pem'];
const isRoot = process.getuid?.() === 0;

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of OUTPUTS) files[name] = (await readFile(join(dir, name))).toString('base64');
  return files;
}

/** Writes zeros until the filesystem refuses with ENOSPC: a really full disk, not a mock. */
async function fill(dir: string): Promise<void> {
  const filled = await exec('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4096']);
  if (!/No space left on device/.test(filled.out)) throw new Error(`the disk did not fill up: ${filled.out}`);
}

describe.skipIf(!runWith('pebble-challtestsrv', 'openssl', 'mount', 'umount', 'dd', 'truncate') || (!isRoot && process.env.CI === undefined))('the agent on a full disk', () => {
  let work: string;
  let ca: AgentCa;
  let config: string;
  let out: string;
  let mounted = false;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wardcert-full-disk-'));
    out = join(work, 'out');
    await mkdir(out);
    const mount = await exec('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', out]);
    if (mount.code !== 0) throw new Error(`could not mount a tmpfs for the output folder: ${mount.out}`);
    mounted = true;
    ca = await startAgentCa(work);
    await writeFile(join(work, 'p12.pass'), 'a password for java keystores\n', { mode: 0o600 });
    config = await writeAgentConfig(ca, work, { output: { dir: out, p12: { passwordFile: join(work, 'p12.pass') } } });
    const first = await runAgent(['renew', '--config', config]);
    if (first.code !== 0) throw new Error(`no first certificate: ${first.stderr}`);
  }, TIMEOUT);

  afterAll(async () => {
    await ca?.stop();
    if (mounted) await exec('umount', [out]);
    await rm(work, { recursive: true, force: true });
  });

  it('fails the renewal with a clear lastError, changes no file and leaves no temporary file; renews once space is freed', async () => {
    const serial = await serialOf(join(out, 'cert.pem'));
    // Full to the last page, and with room for two of the six files: neither may change anything.
    for (const freePages of [0, 2]) {
      const before = await snapshot(out);
      const state = { cert: await readFile(join(work, 'state/current/fullchain.pem'), 'utf8'), key: await readFile(join(work, 'state/current/key.pem'), 'utf8') };
      await fill(out);
      if (freePages) await exec('truncate', ['-s', `-${freePages * 4}K`, join(out, 'filler')]);

      const failed = await runAgent(['renew', '--config', config, '--force']);
      expect(failed.code, `${freePages} pages free`).not.toBe(0);
      const status = JSON.parse((await runAgent(['status', '--config', config, '--json'])).stdout);
      expect(status.lastError).toMatch(/could not write certificate [0-9a-f]+ to disk \(ENOSPC: no space left on device.*\); the files on disk are unchanged/);
      expect(status.certificate.serial).toBe(serial);
      expect(await snapshot(out)).toEqual(before);
      expect((await readdir(out)).sort()).toEqual([...OUTPUTS, 'filler'].sort());
      // The state's copy too: it must not hold a certificate the device's files do not.
      expect(await readFile(join(work, 'state/current/fullchain.pem'), 'utf8')).toBe(state.cert);
      expect(await readFile(join(work, 'state/current/key.pem'), 'utf8')).toBe(state.key);
      expect((await readdir(join(work, 'state/current'))).sort()).toEqual(['fullchain.pem', 'key.pem']);
      await unlink(join(out, 'filler'));
    }

    const renewed = await runAgent(['renew', '--config', config, '--force']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(JSON.parse(renewed.stdout)).toMatchObject({ renewed: true });
    const now = await serialOf(join(out, 'cert.pem'));
    expect(now).not.toBe(serial);
    // The new key and certificate belong together.
    const certKey = await exec('openssl', ['x509', '-in', join(out, 'cert.pem'), '-noout', '-pubkey']);
    const keyKey = await exec('openssl', ['pkey', '-in', join(out, 'key.pem'), '-pubout']);
    expect(certKey.out).toBe(keyKey.out);
    expect((await readdir(out)).sort()).toEqual(OUTPUTS);
    expect(JSON.parse((await runAgent(['status', '--config', config, '--json'])).stdout)).toMatchObject({ certificate: { serial: now }, lastError: null });
  }, TIMEOUT);
});
