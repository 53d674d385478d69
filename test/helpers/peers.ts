import { execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** Clients the gateway tests play against TLS endpoints: DCMTK and OpenSSL commands, an MLLP/TLS session. */

export const MLLP = (text: string) => `\x0b${text}\x1c\x0d`;

export function exec(cmd: string, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` })),
  );
}

export const serialOf = async (file: string) => (await exec('openssl', ['x509', '-in', file, '-noout', '-serial'])).out.trim().replace('serial=', '').toLowerCase();

/** The serial a TLS endpoint serves to a client that sends no SNI, as DCMTK does (openssl s_client -noservername). */
export async function servedSerialWithoutSni(port: number): Promise<string> {
  const shown = await exec('sh', ['-c', `openssl s_client -connect 127.0.0.1:${port} -noservername </dev/null 2>/dev/null | openssl x509 -noout -serial`]);
  return shown.out.trim().replace('serial=', '').toLowerCase();
}

/** A Secondary Capture object for storescu, made with DCMTK's dump2dcm. */
export async function writeSampleDicom(dump: string, file: string, sopInstanceUid: string): Promise<void> {
  await writeFile(dump, [
    '(0008,0016) UI =SecondaryCaptureImageStorage',
    `(0008,0018) UI [${sopInstanceUid}]`,
    '(0008,0060) CS [OT]',
    '(0020,000d) UI [1.2.826.0.1.3680043.10.543.7.2]',
    '(0020,000e) UI [1.2.826.0.1.3680043.10.543.7.3]',
    '',
  ].join('\n'));
  const made = await exec('dump2dcm', [dump, file]);
  if (made.code !== 0) throw new Error(made.out);
}

/** An MLLP/TLS session that stays open, sending messages one at a time and returning each reply. */
export async function mllpSession(port: number, ca: string): Promise<{ socket: TLSSocket; send(id: string): Promise<string> }> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  let buffer = '';
  const waiting: ((s: string) => void)[] = [];
  socket.on('data', (d) => {
    buffer += d.toString('latin1');
    const end = buffer.indexOf('\x1c\x0d');
    if (end >= 0) {
      const frame = buffer.slice(1, end);
      buffer = buffer.slice(end + 2);
      waiting.shift()?.(frame);
    }
  });
  return {
    socket,
    send: (id) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        socket.write(MLLP(`MSH|^~\\&|WARDCERT|TEST|BACKEND|HOSP|20260101120000||ADT^A01|${id}|P|2.5.1\rEVN|A01|20260101120000\r`));
      }),
  };
}

/** One DICOM association carrying many C-STOREs (storescu), to keep it open through a renewal. */
export function storeInOneAssociation(args: string[], file: string, copies: number) {
  let finishedAt = 0;
  const result = new Promise<{ code: number | null; out: string }>((resolve) => {
    let out = '';
    const child = spawn('storescu', [...args, ...Array.from({ length: copies }, () => file)]);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      finishedAt = Date.now();
      resolve({ code, out });
    });
  });
  return { result, finishedAt: () => finishedAt };
}

/** The serial a new TLS connection gets, in process (Node sends no SNI to an IP address, as DCMTK sends none). */
function servedSerialInProcess(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber?.toLowerCase() ?? '');
      socket.destroy();
    });
    socket.once('error', () => resolve(''));
  });
}

/** Polls a TLS endpoint with new connections until it serves another serial than `before`; the moment it did, or 0 if `until` came first. */
export async function whenServingOtherThan(port: number, before: string, until: () => boolean): Promise<number> {
  while (!until()) {
    const served = await servedSerialInProcess(port);
    if (served && served !== before) return Date.now();
    await sleep(100);
  }
  return 0;
}
