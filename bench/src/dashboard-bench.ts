import { loadServerConfig, openStore, type CertificatePageQuery } from '@wardcert/ca-server';

/** The dashboard's certificate list as an operator uses it: the first page, each state filter, each sort, a search. */
const CASES: Record<string, Partial<CertificatePageQuery>> = {
  firstPage: {},
  expiring24h: { state: 'expiring-24h' },
  expiring7d: { state: 'expiring-7d' },
  revoked: { state: 'revoked', sort: 'issued', descending: true },
  expired: { state: 'expired' },
  byProfile: { profile: 'dicom-node', sort: 'name' },
  byDevice: { deviceId: 'no-such-device' },
  sortedByDevicePage100: { sort: 'device', descending: true, offset: 99 * 50 },
  search: { search: '127.9.0.1' },
};

const RUNS = 7;

/**
 * Times the store queries behind the dashboard's certificate list (one page of 50 and the size of
 * the filtered set, as the page and the API run them) on a local Wardcert's store, e.g. one seeded
 * with --crl-seed: the median of seven runs per case, and the counts the overview shows.
 */
export async function dashboardBench(o: { wardcertConfig: string }): Promise<Record<string, number>> {
  const config = await loadServerConfig(o.wardcertConfig);
  const store = await openStore({ dataDir: config.data, ...(config.database ? { url: config.database } : {}) });
  try {
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
