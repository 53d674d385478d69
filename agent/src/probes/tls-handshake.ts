import { connect } from 'node:tls';
import type { CertificatePair } from '../keystore/state.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
  servedSerial?: string;
}

/** A listener bound to every address is probed on loopback, where the agent itself is. */
export function probeAddress(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

/**
 * Handshakes with a listener as a hospital client would: the chain must verify against the hospital
 * root, and the served certificate must be exactly the expected one (by serial). The host name is
 * not checked: the probe connects over loopback while the certificate names the gateway, and the
 * serial comparison is the stronger test. For mutual TLS the agent presents its own certificate.
 */
export function probeTls(o: { host: string; port: number; trust: string; client?: CertificatePair; expectSerial: string; timeoutMs: number }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({
      host: probeAddress(o.host),
      port: o.port,
      ca: o.trust,
      minVersion: 'TLSv1.2',
      checkServerIdentity: () => undefined,
      ...(o.client ? { key: o.client.key, cert: o.client.chain } : {}),
    });
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `no TLS handshake within ${o.timeoutMs} ms` }), o.timeoutMs);
    socket.once('secureConnect', () => {
      const served = socket.getPeerCertificate().serialNumber?.toLowerCase() ?? '';
      done(
        served === o.expectSerial.toLowerCase()
          ? { ok: true, detail: `serves ${served} over ${socket.getProtocol()}`, servedSerial: served }
          : { ok: false, detail: `serves ${served}, expected ${o.expectSerial}`, servedSerial: served },
      );
    });
    socket.once('error', (err) => done({ ok: false, detail: err.message }));
  });
}
