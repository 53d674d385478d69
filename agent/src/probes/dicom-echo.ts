import dimse from 'dcmjs-dimse';
import type { CertificatePair } from '../keystore/state.js';
import { probeAddress, type ProbeResult } from './tls-handshake.js';

// dcmjs-dimse logs every association at info level to the console; the agent logs what matters itself.
dimse.log.setLevel('silent');

/**
 * A DICOM C-ECHO through a TLS front: proves the DICOM service behind it answers. It runs right
 * after the handshake probe has verified the front's chain and serial, so here the certificate is not
 * checked again: the front is reached over loopback, where its names (the gateway's) do not match.
 */
export function probeDicomEcho(o: { host: string; port: number; callingAE: string; calledAE: string; client?: CertificatePair; timeoutMs: number }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = new dimse.Client();
    const request = new dimse.requests.CEchoRequest();
    let result: ProbeResult = { ok: false, detail: 'the association closed without a C-ECHO response' };
    const timer = setTimeout(() => {
      result = { ok: false, detail: `no C-ECHO response within ${o.timeoutMs} ms` };
      client.abort();
    }, o.timeoutMs);
    request.on('response', (response) => {
      const status = response.getStatus();
      result = status === dimse.constants.Status.Success ? { ok: true, detail: 'C-ECHO success' } : { ok: false, detail: `C-ECHO status 0x${status.toString(16)}` };
    });
    client.on('associationRejected', (e: { reason: number }) => {
      result = { ok: false, detail: `association rejected (reason ${e.reason})` };
    });
    client.on('networkError', (e: Error) => {
      result = { ok: false, detail: e.message };
    });
    client.on('closed', () => {
      clearTimeout(timer);
      resolve(result);
    });
    client.addRequest(request);
    client.send(probeAddress(o.host), o.port, o.callingAE, o.calledAE, {
      connectTimeout: o.timeoutMs,
      associationTimeout: o.timeoutMs,
      securityOptions: { rejectUnauthorized: false, minVersion: 'TLSv1.2', ...(o.client ? { key: o.client.key, cert: o.client.chain } : {}) },
    });
  });
}
