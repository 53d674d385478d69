// What one audit append costs, on SQLite and (with WARDCERT_BENCH_PG_URL) PostgreSQL:
// one at a time (the latency an ACME request waits for), and 64 at once (what the batching
// recorder sustains when issuance runs at full speed); also with the ATNA spool written per batch.
//   npx tsc -b bench && node bench/dist/audit-append.js
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import { atnaSpoolWriter, createAuditRecorder, openStore, type AuditEvent, type StoreOptions } from '@wardcert/ca-server';

const SEQUENTIAL = 2000;
const PARALLEL = 20000;
const WIDTH = 64;

const event = (i: number): AuditEvent => ({
  type: 'certificate.issued',
  outcome: 'success',
  actor: { kind: 'account', id: `acct-${i % 50}`, name: `gw-${i % 50}` },
  source: '10.20.30.40',
  subject: { kind: 'certificate', id: i.toString(16).padStart(32, '0') },
  details: { profile: 'dicom-node', identifiers: [`gw${i}.radiology.hospital.example`, '10.20.30.40'], order: `order-${i}` },
});

async function run(name: string, options: StoreOptions, spoolDir?: string): Promise<void> {
  const store = await openStore(options);
  const recorder = createAuditRecorder({ store, ...(spoolDir ? { onStored: atnaSpoolWriter(spoolDir) } : {}) });
  try {
    let t = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) await recorder.record(event(i));
    const oneMs = (performance.now() - t) / SEQUENTIAL;
    t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: WIDTH }, async () => {
      while (next < PARALLEL) await recorder.record(event(next++));
    }));
    const perSecond = PARALLEL / ((performance.now() - t) / 1000);
    console.log(`${name}: one at a time ${oneMs.toFixed(3)} ms per append; ${WIDTH} at once ${Math.round(perSecond)} appends/s`);
  } finally {
    await store.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'wardcert-bench-'));
try {
  await run('sqlite', { dataDir: dir });
  await run('sqlite with ATNA spool', { dataDir: join(dir, 'atna') }, join(dir, 'atna'));
  const pg = process.env.WARDCERT_BENCH_PG_URL;
  if (pg) {
    const admin = knex({ client: 'pg', connection: pg });
    const schema = `wardcert_bench_${process.pid}`;
    await admin.raw('create schema ??', [schema]);
    try {
      const url = new URL(pg);
      url.searchParams.set('options', `-c search_path=${schema}`);
      await run('postgres', { url: url.toString() });
    } finally {
      await admin.raw('drop schema ?? cascade', [schema]);
      await admin.destroy();
    }
  } else {
    console.log('postgres: skipped (set WARDCERT_BENCH_PG_URL)');
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
