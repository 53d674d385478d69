import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { probeDicomEcho } from './dicom-echo.js';
import type { probeHl7 } from './hl7-ack.js';
import type { ProbeResult } from './tls-handshake.js';

export type ServiceProbe = { kind: 'dicom'; args: Parameters<typeof probeDicomEcho>[0] } | { kind: 'hl7'; args: Parameters<typeof probeHl7>[0] };

const WORKER = fileURLToPath(new URL('./probe-worker.js', import.meta.url));

/**
 * Runs a DICOM or HL7 probe in a child process. The protocol libraries (dcmjs-dimse, node-hl7-client)
 * cost about 30 MB once loaded; a probe every few minutes must not make the daemon carry them for good.
 */
export function runServiceProbe(probe: ServiceProbe): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
    let result: ProbeResult = { ok: false, detail: 'the probe process ended without a result' };
    const timer = setTimeout(() => {
      result = { ok: false, detail: 'the probe process did not finish in time' };
      child.kill('SIGKILL');
    }, probe.args.timeoutMs + 10_000);
    child.once('message', (message) => {
      result = message as ProbeResult;
    });
    child.once('error', (err) => {
      result = { ok: false, detail: `could not start the probe process: ${err.message}` };
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(result);
    });
    child.send(probe);
  });
}
