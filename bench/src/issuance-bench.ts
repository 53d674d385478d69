import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCsr, newDeviceKey } from '@wardcert/agent';
import {
  caLayout,
  checkCsr,
  initRoot,
  installIntermediate,
  issueLeaf,
  loadIssuingCa,
  loadProfiles,
  requestIntermediate,
  rootLayout,
  signIntermediateRequest,
} from '@wardcert/ca-server';

/** The issuing CA algorithms timed: the quickstart's, a Brainpool one (no WebCrypto in Node) and RSA (PSS). */
const CA_ALGORITHMS = ['ecdsa-p384', 'ecdsa-brainpoolp384r1', 'rsa-3072'] as const;
const PASSPHRASE = 'bench passphrase, long enough';

export interface IssuanceCost {
  caAlgorithm: string;
  /** checkCsr on the agent's P-256 CSR, milliseconds of CPU per call. */
  checkCsrMs: number;
  /** issueLeaf under dicom-node with CRL, OCSP and AIA URLs, milliseconds of CPU per call. */
  issueLeafMs: number;
  perIssuanceMs: number;
}

/** CPU time per call of an async `fn`, run one call at a time, milliseconds. */
async function cpuMsPerCall(fn: () => Promise<unknown>, rounds: number): Promise<number> {
  for (let i = 0; i < Math.min(30, rounds); i++) await fn();
  const started = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await fn();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / rounds / 1000;
}

/**
 * What the server's PKI code costs per issuance, beyond the bare signatures `measureCrypto` times:
 * the CSR check and the leaf build, each CA made by the real key ceremony in a temporary directory.
 */
export async function measureIssuance(rounds = 300): Promise<IssuanceCost[]> {
  const dir = await mkdtemp(join(tmpdir(), 'wardcert-bench-issuance-'));
  try {
    const profile = (await loadProfiles()).get('dicom-node')!;
    const csr = await makeCsr(await newDeviceKey('ecdsa-p256'), [{ type: 'dns', value: 'd1.hospital.test' }]);
    const request = await checkCsr(csr);
    const costs: IssuanceCost[] = [];
    for (const algorithm of CA_ALGORITHMS) {
      const ca = await ceremony(join(dir, algorithm), algorithm);
      const leafRequest = { ca, profile, request, httpBase: 'http://ca.hospital.test:8080' };
      const checkCsrMs = await cpuMsPerCall(() => checkCsr(csr), rounds);
      const issueLeafMs = await cpuMsPerCall(() => issueLeaf(leafRequest), rounds);
      const round = (x: number) => Math.round(x * 1000) / 1000;
      costs.push({ caAlgorithm: algorithm, checkCsrMs: round(checkCsrMs), issueLeafMs: round(issueLeafMs), perIssuanceMs: round(checkCsrMs + issueLeafMs) });
    }
    return costs;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function ceremony(dir: string, algorithm: string) {
  const rootDir = join(dir, 'root');
  const data = join(dir, 'data');
  const rootCert = rootLayout(rootDir).cert;
  await initRoot({ dir: rootDir, subject: 'CN=Bench Root', algorithm: 'ecdsa-p384', years: 2, passphrase: PASSPHRASE, force: false });
  await requestIntermediate({ data, subject: 'CN=Bench Issuing CA', algorithm, passphrase: PASSPHRASE, force: false });
  const signed = join(dir, 'intermediate.pem');
  await signIntermediateRequest({
    rootDir, rootPassphrase: PASSPHRASE, csrPem: await readFile(caLayout(data).csr, 'utf8'), out: signed, days: 300,
    constraints: { permitDns: ['hospital.test'], permitIp: [], excludeDns: [], excludeIp: [] }, force: false,
  });
  await installIntermediate({ data, certPem: await readFile(signed, 'utf8'), rootPem: await readFile(rootCert, 'utf8'), rootSource: rootCert, force: false });
  return loadIssuingCa({ dataDir: data, passphrase: PASSPHRASE });
}
