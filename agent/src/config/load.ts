import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { agentConfigSchema, type AgentConfig } from './schema.js';

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

/** Reads and checks the config; every error names the file and the key. Paths become absolute. */
export async function loadAgentConfig(path: string): Promise<AgentConfig & { configPath: string }> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'), { maxAliasCount: 10 });
  } catch (err) {
    throw new AgentConfigError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = agentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AgentConfigError(parsed.error.issues.map((i) => `${path}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'));
  }
  const base = dirname(resolve(path));
  const abs = (p: string) => resolve(base, p);
  const c = parsed.data;
  return {
    ...c,
    server: { ...c.server, ...(c.server.trust ? { trust: abs(c.server.trust) } : {}) },
    state: abs(c.state),
    output: { dir: abs(c.output.dir), ...(c.output.p12 ? { p12: { passwordFile: abs(c.output.p12.passwordFile) } } : {}) },
    listeners: c.listeners.map((l) => (l.mtls ? { ...l, mtls: { ...l.mtls, trust: abs(l.mtls.trust) } } : l)),
    probes: { ...c.probes, hl7: c.probes.hl7.message ? { message: abs(c.probes.hl7.message) } : {} },
    configPath: resolve(path),
  };
}
