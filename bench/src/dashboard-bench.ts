import { randomBytes } from 'node:crypto';
import { loadServerConfig, openStore, type CertificatePageQuery, type Store } from '@wardcert/ca-server';

/** The dashboard's certificate list as an operator uses it: the first page, each state filter, each sort, a search. */
const CASES: Record<string, Partial<CertificatePageQuery>> = {
  firstPage: {},
  expiring24h: { state: 'expiring-24h' },
  expiring7d: { state: 'expiring-7d' },
  revoked: { state: 'revoked', sort: 'issued', descending: true },
  expired: { state: 'expired' },
  byProfile: { profile: 'dicom-node', sort: 'name' },
  byDevice: { deviceId: 'dev-4242' },
  sortedByDevicePage100: { sort: 'device', descending: true, offset: 99 * 50 },
  search: { search: 'gw4242.' },
};

const HOUR_MS = 3_600_000;

/**
 * Certificates as a hospital group's store holds them: 72-hour certificates of 20,000 devices,
 * renewed over the last days (so expiries are spread), 2% revoked, each with a DER of a real size.
 */
async function seed(store: Store, count: number, progress: (line: string) => void): Promise<void> {
  const now = Date.now();
  const der = randomBytes(700);
  for (let i = 0; i < count; i++) {
    const serial = randomBytes(16).toString('hex');
    const name = `gw${i % 20_000}.ward${i % 40}.hospital.test`;
    const notBefore = new Date(now - Math.floor(Math.random() * 96 * HOUR_MS));
    await store.certificates.insert({
      serial, profile: i % 4 ? 'dicom-node' : 'hl7-endpoint', subject: `CN=${name}`, identifiers: [{ type: 'dns', value: name }],
      notBefore, notAfter: new Date(notBefore.getTime() + 72 * HOUR_MS), der, issuerKeyId: 'bench', spkiSha256: serial,
      accountId: `acct-${i % 20_000}`, deviceId: `dev-${i % 20_000}`,
    });
    if (i % 50 === 7) await store.certificates.markRevoked(serial, 4, new Date(now));
    if (i % 10_000 === 9_999) progress(`dashboard: seeded ${i + 1}/${count}`);
  }
}

const RUNS = 7;

/**
 * Times the store queries behind the dashboard's certificate list (one page of 50 and the size of
 * the filtered set, as the page and the API run them) on a local Wardcert's store, after adding
 * `seed` certificate records: the median of seven runs per case, and the counts the overview shows.
 */
export async function dashboardBench(o: { wardcertConfig: string; seed: number }, progress: (line: string) => void): Promise<Record<string, number>> {
  const config = await loadServerConfig(o.wardcertConfig);
  const store = await openStore({ dataDir: config.data, ...(config.database ? { url: config.database } : {}) });
  try {
    await seed(store, o.seed, progress);
    const out: Record<string, number> = { stored: Number((await store.knex('certificates').count({ n: '*' }))[0]!.n) };
    const time = async (run: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await run();
        times.push(performance.now() - t0);
      }
      return Math.round(times.sort((a, b) => a - b)[RUNS >> 1]! * 100) / 100;
    };
    for (const [name, q] of Object.entries(CASES)) {
      out[`${name}Ms`] = await time(() => store.certificateSearch.page({ sort: 'expiry', descending: false, offset: 0, limit: 50, ...q }, new Date()));
    }
    out.countByStateMs = await time(() => store.certificateSearch.countByState(new Date()));
    return out;
  } finally {
    await store.close();
  }
}
