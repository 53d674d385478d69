import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startChallTestSrv, type ChallTestSrv } from '../../ca-server/test/helpers/dns-challtestsrv.js';
import { startQuickstart, type RunningQuickstart } from './quickstart.js';
import { freePort } from './tools.js';

export interface AgentCa {
  qs: RunningQuickstart;
  /** The port the CA validates http-01 on, where the agent's responder listens. */
  http01: number;
  /** The quickstart's arguments, to start it again on the same data after a stop. */
  args: string[];
  stop(): Promise<void>;
}

/**
 * The Wardcert quickstart on loopback for an agent under test, with pebble-challtestsrv as its DNS
 * (every name resolves to 127.0.0.1), its data in WORK/ca.
 */
export async function startAgentCa(work: string, extraArgs: string[] = []): Promise<AgentCa> {
  const dns: ChallTestSrv = await startChallTestSrv();
  const http01 = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(await freePort()), '--http-port', String(await freePort()),
    '--dns-resolver', dns.dnsServer, '--http01-port', String(http01), ...extraArgs];
  const qs = await startQuickstart(join(work, 'ca'), args).catch(async (err) => {
    await dns.stop();
    throw err;
  });
  const ca: AgentCa = {
    qs,
    http01,
    args,
    async stop() {
      await ca.qs.stop();
      await dns.stop();
    },
  };
  return ca;
}

/**
 * Writes WORK/agent.yaml for an agent of this CA: its state in WORK/state, its files in WORK/out,
 * http-01 on the CA's validation port, the demo EAB; `extra` adds or replaces top-level keys.
 */
export async function writeAgentConfig(ca: AgentCa, work: string, extra: Record<string, unknown> = {}, identifiers = ['gw1.radiology.hospital.test', '127.0.0.1']): Promise<string> {
  const config = join(work, 'agent.yaml');
  await writeFile(config, stringify({
    server: { directory: ca.qs.info.directoryUrl, trust: ca.qs.info.rootCertPath },
    account: { eab: ca.qs.info.eab },
    state: join(work, 'state'),
    certificate: { identifiers, profile: 'dicom-node' },
    challenge: { http01: { listen: `127.0.0.1:${ca.http01}` } },
    output: { dir: join(work, 'out') },
    ...extra,
  }));
  return config;
}
