#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { crlBench } from './crl-bench.js';
import { dashboardBench } from './dashboard-bench.js';
import { measureCrypto } from './crypto-bench.js';
import { measureIssuance } from './issuance-bench.js';
import { runBench } from './run.js';

const count = (min: number) => (v: string) => {
  if (!/^\d{1,9}$/.test(v) || Number(v) < min) throw new InvalidArgumentError(`must be an integer of at least ${min}`);
  return Number(v);
};
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const program = new Command('bench')
  .description('load generator: simulated ACME devices against one or more RFC 8555 servers; the last stdout line is a JSON summary')
  .option('--directory <URL[,URL...]>', 'ACME directory URL(s); devices are spread round-robin', list)
  .option('--ca <FILE>', 'PEM the servers\' HTTPS certificates chain to')
  .option('--clients <n>', 'devices working at once', count(1), 10)
  .option('--certs <n>', 'issuances in total (first certificates, then renewals with replaces)', count(0), 100)
  .option('--http01-port <n>', 'port of the generator\'s http-01 responder (the CA\'s validation port)', count(1))
  .option('--http01-listen <host>', 'address the responder binds (default: every address for 127.x.y.z identifiers, 127.0.0.1 with --names-suffix)')
  .option('--names-suffix <suffix>', 'devices are d<n>.<suffix> instead of 127.1.x.y (the CA\'s resolver must answer them)')
  .option('--eab-kid <kid>', 'EAB key id every device registers with')
  .option('--eab-hmac <key>', 'EAB HMAC key (base64url)')
  .option('--wardcert-config <FILE>', 'a local Wardcert\'s config: one EAB credential per device, and renew-now --all for the storm')
  .option('--storm <n>', 'devices holding certificates that are then told to renew at once', count(0), 0)
  .option('--storm-concurrency <n>', 'storm devices in flight at once (default: all of them)', count(1))
  .option('--storm-timeout <seconds>', 'how long storm devices keep retrying before they count as failed', count(1), 1800)
  .option('--poll-ms <n>', 'pause between status polls', count(1), 50)
  .option('--max-sockets <n>', 'connections the generator holds at once over all devices; more requests wait for one', count(1), 1024)
  .option('--server-pid <PID[,PID...]>', 'server processes to read CPU and memory of (default: found through /proc for local URLs)', list)
  .option('--crypto', 'instead: time the cryptography one issuance needs (JWS verifications, CSR check, certificate signature), then checkCsr and issueLeaf whole')
  .option('--crl-seed <n>', 'instead: add n certificate records to the --wardcert-config store, sign a CRL over them, time --crl-url', count(1))
  .option('--crl-url <URL>', 'the running server\'s CRL, for --crl-seed')
  .option('--revoked-percent <n>', 'share of the seeded certificates that are revoked', count(0), 5)
  .option('--dashboard', 'instead: time the dashboard\'s certificate list queries on the --wardcert-config store')
  .option('--dashboard-seed <n>', 'with --dashboard: first add n certificate records like a hospital group\'s', count(0), 0)
  .action(async (o) => {
    if (o.crypto) return print({ ...measureCrypto(), issuance: await measureIssuance() });
    if (o.dashboard) {
      if (!o.wardcertConfig) throw new InvalidArgumentError('--dashboard needs --wardcert-config');
      return print(await dashboardBench({ wardcertConfig: o.wardcertConfig, seed: o.dashboardSeed }, progress));
    }
    if (o.crlSeed !== undefined) {
      if (!o.wardcertConfig || !o.crlUrl) throw new InvalidArgumentError('--crl-seed needs --wardcert-config and --crl-url');
      return print(await crlBench({ wardcertConfig: o.wardcertConfig, crlUrl: o.crlUrl, count: o.crlSeed, revokedPercent: o.revokedPercent }, progress));
    }
    if (!o.directory?.length) throw new InvalidArgumentError('--directory is required');
    if (o.http01Port === undefined) throw new InvalidArgumentError('--http01-port is required');
    if (!o.eabKid !== !o.eabHmac) throw new InvalidArgumentError('--eab-kid and --eab-hmac go together');
    const result = await runBench(
      {
        directories: o.directory,
        ...(o.ca ? { trust: await readFile(o.ca, 'utf8') } : {}),
        clients: o.clients,
        certs: o.certs,
        http01Port: o.http01Port,
        http01Listen: o.http01Listen ?? (o.namesSuffix ? '127.0.0.1' : '0.0.0.0'),
        ...(o.namesSuffix ? { namesSuffix: o.namesSuffix } : {}),
        ...(o.eabKid ? { eab: { kid: o.eabKid, hmacKey: o.eabHmac } } : {}),
        ...(o.wardcertConfig ? { wardcertConfig: o.wardcertConfig } : {}),
        storm: o.storm,
        stormConcurrency: o.stormConcurrency ?? Math.max(1, o.storm),
        stormTimeoutMs: o.stormTimeout * 1000,
        pollMs: o.pollMs,
        maxSockets: o.maxSockets,
        serverPids: (o.serverPid ?? []).map((p: string) => count(1)(p)),
      },
      progress,
    );
    print(result);
  });

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function print(result: object): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = 2;
});
