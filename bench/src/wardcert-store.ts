import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadServerConfig, openStore } from '@wardcert/ca-server';
import type { Eab, Identifier } from '@wardcert/agent';

/**
 * What the bench does to a local Wardcert beyond ACME, through its config file: EAB credentials
 * are single-use, so every simulated device gets its own, bound to its identifier.
 */
export async function mintEabCredentials(configFile: string, devices: { deviceId: string; identifier: Identifier }[]): Promise<Eab[]> {
  const config = await loadServerConfig(configFile);
  const store = await openStore({ dataDir: config.data, ...(config.database ? { url: config.database } : {}) });
  try {
    const now = new Date();
    const out: Eab[] = [];
    for (const d of devices) {
      const c = await store.eab.create({ deviceId: d.deviceId, identifiers: [d.identifier.value] }, now);
      out.push({ kid: c.kid, hmacKey: c.hmacKey });
    }
    return out;
  } finally {
    await store.close();
  }
}

const CA_BIN = fileURLToPath(new URL('../bin/wardcert-ca.js', import.meta.resolve('@wardcert/ca-server')));

/** `wardcert-ca renew-now --all`, exactly as an operator runs it before a planned mass renewal. */
export function renewNowAll(configFile: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CA_BIN, 'renew-now', '--config', configFile, '--all'], (err, stdout, stderr) =>
      err ? reject(new Error(`renew-now failed: ${stderr || err.message}`)) : resolve(`${stdout}${stderr}`.trim()),
    ),
  );
}
