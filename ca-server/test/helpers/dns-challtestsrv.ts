import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Debian's pebble-challtestsrv (package `pebble`), or undefined when it is not installed. */
export function challtestsrvPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'pebble-challtestsrv');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** CI must exercise DNS, so there a missing binary fails the tests; elsewhere they skip. */
export const runChalltestsrvTests = challtestsrvPath() !== undefined || process.env.CI !== undefined;

export interface ChallTestSrvOptions {
  /** Answer for every A query without a record of its own; default 127.0.0.1. */
  defaultIPv4?: string;
  /** Answer for every AAAA query without a record of its own; default none, so names resolve to IPv4 only. */
  defaultIPv6?: string;
}

export interface ChallTestSrv {
  /** 'HOST:PORT' of its DNS server, as createResolver takes it. */
  readonly dnsServer: string;
  /** Base URL of its management API, for clients (lego's exec provider) that set records themselves. */
  readonly managementUrl: string;
  /** Adds a TXT record (records accumulate until clearTxt). */
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  addA(host: string, addresses: string[]): Promise<void>;
  addAaaa(host: string, addresses: string[]): Promise<void>;
  /** Makes every query for the host answer SERVFAIL. */
  setServfail(host: string): Promise<void>;
  stop(): Promise<void>;
}

const READY_WITHIN_MS = 10_000;
const ATTEMPTS = 3;

/**
 * Starts pebble-challtestsrv with only its DNS and management servers, each on a free 127.0.0.1 port,
 * and resolves once both answer. Ports are picked before the child binds them, so a start that loses
 * a port to someone else is retried with new ones.
 */
export async function startChallTestSrv(options: ChallTestSrvOptions = {}): Promise<ChallTestSrv> {
  const binary = challtestsrvPath();
  if (binary === undefined) {
    throw new Error('pebble-challtestsrv is not installed (apt-get install pebble); CI must run the DNS tests');
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(binary: string, options: ChallTestSrvOptions): Promise<ChallTestSrv> {
  const dnsPort = await freePort();
  const managementPort = await freePort();
  const args = [
    '-dns01', `127.0.0.1:${dnsPort}`,
    '-management', `127.0.0.1:${managementPort}`,
    // Its own challenge servers would only take ports; the tests run their own.
    '-http01', '', '-https01', '', '-tlsalpn01', '',
    '-defaultIPv4', options.defaultIPv4 ?? '127.0.0.1',
    '-defaultIPv6', options.defaultIPv6 ?? '',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await terminate(child);
  };
  try {
    await untilReady(child, dnsPort, managementPort, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  const post = async (path: string, body: object) => {
    const res = await fetch(`http://127.0.0.1:${managementPort}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`pebble-challtestsrv ${path} answered ${res.status}: ${await res.text()}`);
  };
  return {
    dnsServer: `127.0.0.1:${dnsPort}`,
    managementUrl: `http://127.0.0.1:${managementPort}`,
    setTxt: (host, value) => post('/set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => post('/clear-txt', { host: fqdn(host) }),
    addA: (host, addresses) => post('/add-a', { host: fqdn(host), addresses }),
    addAaaa: (host, addresses) => post('/add-aaaa', { host: fqdn(host), addresses }),
    setServfail: (host) => post('/set-servfail', { host: fqdn(host) }),
    stop,
  };
}

/** Its management API keys records by fully qualified name. */
function fqdn(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}

async function untilReady(child: ChildProcess, dnsPort: number, managementPort: number, stderr: () => string): Promise<void> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${dnsPort}`]);
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`pebble-challtestsrv exited early (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    }
    const dnsUp = await resolver.resolve4('ready.challtestsrv.test').then(() => true, () => false);
    // Any HTTP answer, even a 404, shows the management server is listening.
    const managementUp = await fetch(`http://127.0.0.1:${managementPort}/`).then(() => true, () => false);
    if (dnsUp && managementUp) return;
    await sleep(50);
  }
  throw new Error(`pebble-challtestsrv did not answer within ${READY_WITHIN_MS} ms: ${stderr()}`);
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(forced);
}

/** A port free for both TCP and UDP on 127.0.0.1: the DNS server binds both. */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await freeTcpPort();
    if (await udpPortFree(port)) return port;
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
