import { readFile } from 'node:fs/promises';
import { PRIVATE_MODE, writeFileAtomic } from '@wardcert/common';

/** What `status --json` prints, and what the agent reports to the CA. */
export interface AgentStatus {
  certificate: { serial: string; notAfter: string; identifiers: string[] } | null;
  nextRenewal: string | null;
  listeners: { kind: string; listen: string; ok: boolean | null; servedSerial: string | null }[];
  lastError: string | null;
  agentVersion: string;
  updatedAt: string;
}

export async function saveStatus(path: string, status: AgentStatus): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(status, null, 2) + '\n', { mode: PRIVATE_MODE, replace: true });
}

export async function readStatus(path: string): Promise<AgentStatus | undefined> {
  return readFile(path, 'utf8').then((t) => JSON.parse(t) as AgentStatus, () => undefined);
}
