import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, type Eab, type Exchange } from '@wardcert/agent';
import { Device } from './device.js';
import { ExchangeLog } from './exchange-log.js';
import { deviceIdentifier } from './identifiers.js';
import { startResponder, type SharedResponder } from './responder.js';
import { cpuMs, isLocal, memoryMb, pidOfListener } from './server-stats.js';
import { mintEabCredentials, renewNowAll } from './wardcert-store.js';

export interface BenchOptions {
  /** Directory URLs; devices are spread over them round-robin. */
  directories: string[];
  /** PEM the CAs' HTTPS chains to. */
  trust?: string;
  /** Devices working at once. */
  clients: number;
  /** Issuances in total: each device's first, then renewals with `replaces`. */
  certs: number;
  http01Port: number;
  /** Where the responder listens: every address (IP identifiers) or loopback (names). */
  http01Listen: string;
  namesSuffix?: string;
  /** One credential for every device (servers whose EAB keys bind several accounts). */
  eab?: Eab;
  /** A local Wardcert's config file: per-device EAB credentials, and renew-now for the storm. */
  wardcertConfig?: string;
  /** Devices in the renewal storm (0: none). */
  storm: number;
  /** Storm devices in flight at once: the connections a data-centre failover brings back together. */
  stormConcurrency: number;
  /** How long the storm's devices keep trying (default 30 minutes). */
  stormTimeoutMs?: number;
  pollMs: number;
  /**
   * Sockets the generator holds at once, over all devices: one process cannot hold a TLS socket for
   * each of 20,000 devices (it ran out of memory and stalled in GC), so further requests wait here.
   */
  maxSockets: number;
  /** Server processes whose CPU and memory are read; found through /proc for local URLs when empty. */
  serverPids: number[];
  /** Told of each certificate chain a device downloaded in the issuance phase (the failover test counts them). */
  onIssued?: (chainPem: string) => void;
}

export interface StormResult {
  devices: number;
  renewed: number;
  /** Devices that had not renewed when the storm's time ran out. */
  failed: number;
  /** Renewal attempts that failed and were tried again after the agent's backoff. */
  retried: number;
  seconds: number;
  shed503: number;
  rateLimited: number;
}

export interface BenchResult {
  issued: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  /** Answers that shed load (503) or refused it by rate limit (429); the devices waited and retried. */
  shed503: number;
  rateLimited: number;
  /** The generator's own CPU per issuance: on one machine it competes with the server for cores. */
  generatorCpuMsPerCert: number;
  serverCpuMsPerCert?: number;
  serverRssMb?: number;
  serverPeakRssMb?: number;
  storm?: StormResult;
}

type Progress = (line: string) => void;

/** Shared by the phases: the responder, the request log, and where device n's credentials come from. */
interface Rig {
  o: BenchOptions;
  responder: SharedResponder;
  log: ExchangeLog;
  eabs: Eab[];
  progress: Progress;
  /** One bounded connection pool per directory URL. */
  agents: (HttpAgent | HttpsAgent)[];
}

/** The whole run: issuance at `clients` concurrency until `certs` are done, then the storm. */
export async function runBench(o: BenchOptions, progress: Progress = () => {}): Promise<BenchResult> {
  const pids = o.serverPids.length ? o.serverPids : localServerPids(o.directories);
  const deviceCount = Math.max(o.clients, o.storm);
  const eabs = o.eab
    ? []
    : o.wardcertConfig
      ? await mintEabCredentials(o.wardcertConfig, Array.from({ length: deviceCount }, (_, n) => ({ deviceId: `bench-${n}`, identifier: deviceIdentifier(n, o.namesSuffix) })))
      : [];
  const agents = o.directories.map((url) => {
    const pool = { keepAlive: true, maxSockets: Math.max(1, Math.floor(o.maxSockets / o.directories.length)) };
    return url.startsWith('https:') ? new HttpsAgent(pool) : new HttpAgent(pool);
  });
  const rig: Rig = { o, responder: await startResponder(o.http01Listen, o.http01Port), log: new ExchangeLog(), eabs, progress, agents };
  try {
    const cpuBefore = sumOf(pids, cpuMs);
    const ownBefore = process.cpuUsage();
    const started = performance.now();
    const devices: Device[] = [];
    const { issued, errors } = await issueAll(rig, devices);
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = sumOf(pids, cpuMs) - cpuBefore;
    const own = process.cpuUsage(ownBefore);
    const result: BenchResult = {
      issued,
      errors,
      seconds: round(seconds),
      perSecond: round(issued / seconds),
      p50ms: round(rig.log.percentile(50)),
      p99ms: round(rig.log.percentile(99)),
      requests: rig.log.count,
      shed503: rig.log.shed,
      rateLimited: rig.log.rateLimited,
      generatorCpuMsPerCert: round((own.user + own.system) / 1000 / Math.max(1, issued)),
      ...(pids.length && issued ? { serverCpuMsPerCert: round(cpuUsed / issued) } : {}),
    };
    if (o.storm > 0) result.storm = await storm(rig, devices);
    if (pids.length) {
      result.serverRssMb = round(sumOf(pids, (p) => memoryMb(p).rss));
      result.serverPeakRssMb = round(sumOf(pids, (p) => memoryMb(p).peak));
    }
    return result;
  } finally {
    for (const agent of agents) agent.destroy();
    await rig.responder.close();
  }
}

async function enrol(rig: Rig, n: number): Promise<Device> {
  const eab = rig.o.eab ?? rig.eabs[n];
  return Device.enrol({
    directoryUrl: rig.o.directories[n % rig.o.directories.length]!,
    agent: rig.agents[n % rig.agents.length]!,
    identifier: deviceIdentifier(n, rig.o.namesSuffix),
    solver: rig.responder,
    pollMs: rig.o.pollMs,
    onExchange: (e: Exchange) => rig.log.record(e),
    ...(rig.o.trust ? { trust: rig.o.trust } : {}),
    ...(eab ? { eab } : {}),
  });
}

/** `clients` workers take issuances from one counter; each worker is a device that renews what it holds. */
async function issueAll(rig: Rig, devices: Device[]): Promise<{ issued: number; errors: number }> {
  let tickets = rig.o.certs;
  let issued = 0;
  let errors = 0;
  const ticker = reporter(rig.progress, () => `issued ${issued}/${rig.o.certs}, errors ${errors}, p99 ${round(rig.log.percentile(99))} ms`);
  const worker = async (n: number) => {
    let device: Device | undefined;
    while (tickets > 0) {
      tickets--;
      try {
        device ??= await enrol(rig, n);
        const chain = await device.obtain();
        issued++;
        rig.o.onIssued?.(chain);
      } catch (err) {
        errors++;
        if (errors <= 5) rig.progress(`device ${n}: ${(err as Error).message}`);
      }
    }
    if (device?.certId) devices[n] = device;
  };
  try {
    await Promise.all(Array.from({ length: Math.min(rig.o.clients, rig.o.certs) }, (_, n) => worker(n)));
  } finally {
    clearInterval(ticker);
  }
  return { issued, errors };
}

/**
 * N devices that hold certificates are told to renew at once: renew-now on a local Wardcert (the
 * devices see it at their next ARI poll), elsewhere they simply all renew now.
 */
async function storm(rig: Rig, held: Device[]): Promise<StormResult> {
  const n = rig.o.storm;
  const devices = held.filter(Boolean).slice(0, n);
  if (devices.length < n) {
    const missing = n - devices.length;
    let given = 0;
    const ticker = reporter(rig.progress, () => `storm: ${given}/${missing} more devices have a certificate`);
    const more = await inPool(missing, rig.o.clients, async (i) => {
      const d = await enrol(rig, rig.o.clients + i);
      await d.obtain();
      given++;
      return d;
    }).finally(() => clearInterval(ticker));
    const lost = more.filter((d) => d instanceof Error);
    if (lost.length) throw new Error(`storm setup: ${lost.length} devices got no certificate (first: ${(lost[0] as Error).message})`);
    devices.push(...(more as Device[]));
  }
  const viaAri = rig.o.wardcertConfig !== undefined;
  if (viaAri) rig.progress(`storm: ${await renewNowAll(rig.o.wardcertConfig!)}`);
  rig.log.reset();
  let renewed = 0;
  let failed = 0;
  let retried = 0;
  const started = performance.now();
  const ticker = reporter(rig.progress, () => `storm: renewed ${renewed}/${n}, failed ${failed}, attempts retried ${retried}, shed ${rig.log.shed}, rateLimited ${rig.log.rateLimited}`);
  try {
    const deadline = Date.now() + (rig.o.stormTimeoutMs ?? 1_800_000);
    await inPool(n, rig.o.stormConcurrency, async (i) => {
      const d = devices[i]!;
      // A failed attempt is retried after the agent's own backoff, as a real device would.
      for (let attempt = 1; ; attempt++) {
        try {
          // Told through ARI: the device renews at the first poll that shows the window open.
          while (viaAri && !(await d.renewalDue(new Date()))) await sleep(1000);
          await d.obtain();
          renewed++;
          return;
        } catch (err) {
          retried++;
          if (retried <= 5) rig.progress(`storm: ${(err as Error).message}`);
          const wait = backoffMs(attempt);
          if (Date.now() + wait > deadline) {
            failed++;
            return;
          }
          await sleep(wait);
        }
      }
    });
  } finally {
    clearInterval(ticker);
  }
  return { devices: n, renewed, failed, retried, seconds: round((performance.now() - started) / 1000), shed503: rig.log.shed, rateLimited: rig.log.rateLimited };
}

/** Runs task(0..count-1) with at most `width` at once; a failure is returned in its place. */
async function inPool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<(T | Error)[]> {
  const out: (T | Error)[] = new Array(count);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      try {
        out[i] = await task(i);
      } catch (err) {
        out[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
  return out;
}

function reporter(progress: Progress, line: () => string): NodeJS.Timeout {
  const timer = setInterval(() => progress(line()), 2000);
  timer.unref();
  return timer;
}

function localServerPids(directories: string[]): number[] {
  const pids = directories.filter(isLocal).map((u) => pidOfListener(Number(new URL(u).port || (u.startsWith('https:') ? 443 : 80))));
  return [...new Set(pids.filter((p): p is number => p !== undefined))];
}

const sumOf = (pids: number[], f: (pid: number) => number) => pids.reduce((sum, p) => sum + f(p), 0);
const round = (x: number) => Math.round(x * 100) / 100;
