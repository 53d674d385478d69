import { join } from 'node:path';
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
