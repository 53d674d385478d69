import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Hook } from '../config/schema.js';
import { request } from '../acme/request.js';

export interface HookResult {
  hook: string;
  ok: boolean;
  detail: string;
}

const describe = (h: Hook) => ('command' in h ? `command "${h.command}"` : 'signal' in h ? `${h.signal.name} to ${h.signal.pidFile}` : `${h.http.method} ${h.http.url}`);

/** Tells the device's software that its certificate files changed: a command, a signal, or an HTTP call. */
export async function runHook(h: Hook, env: Record<string, string>): Promise<HookResult> {
  const hook = describe(h);
  try {
    if ('command' in h) return { hook, ...(await runCommand(h.command, h.timeout, env)) };
    if ('signal' in h) {
      const pid = Number((await readFile(h.signal.pidFile, 'utf8')).trim());
      if (!Number.isInteger(pid) || pid <= 1) return { hook, ok: false, detail: `no usable pid in ${h.signal.pidFile}` };
      process.kill(pid, h.signal.name);
      return { hook, ok: true, detail: `sent ${h.signal.name} to ${pid}` };
    }
    const res = await request(h.http.url, { method: h.http.method, timeoutMs: h.timeout, ...(h.http.method === 'GET' ? {} : { body: JSON.stringify(env), headers: { 'content-type': 'application/json' } }) });
    return { hook, ok: res.status >= 200 && res.status < 300, detail: `HTTP ${res.status}` };
  } catch (err) {
    return { hook, ok: false, detail: (err as Error).message };
  }
}

function runCommand(command: string, timeoutMs: number, env: Record<string, string>): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-2000); // the tail is what explains a failure
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => resolve({ ok: false, detail: err.message }));
    child.on('close', (code, signal) =>
      resolve({ ok: code === 0, detail: code === 0 ? 'exit 0' : `${signal ? `killed by ${signal}` : `exit ${code}`}: ${output.trim()}` }),
    );
  });
}
