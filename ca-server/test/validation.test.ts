import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { reverseName } from '../src/validation/ip-names.js';
import {
  createResolver,
  dns01TxtValue,
  DnsLookupError,
  keyAuthorizationDigest,
  MAX_BODY_BYTES,
  validateChallenge,
  type NameResolver,
  type ValidationOptions,
  type ValidationResult,
} from '../src/validation/index.js';
import { runChalltestsrvTests, startChallTestSrv, type ChallTestSrv } from './helpers/dns-challtestsrv.js';
import { challengeCert } from './helpers/validation-challenge-cert.js';
import { closedPort, hasIpv6Loopback, serveHttp, serveSilence, serveTls } from './helpers/validation-servers.js';

const TOKEN = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
const KEY_AUTH = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;
const PATH = `/.well-known/acme-challenge/${TOKEN}`;
const TEST_MS = 10_000;
const ipv6 = await hasIpv6Loopback();

/** Fails the test on any lookup: IP identifiers must never touch DNS. */
const noLookups: NameResolver = {
  addresses: (name) => Promise.reject(new Error(`unexpected A/AAAA lookup of ${name}`)),
  txt: (name) => Promise.reject(new Error(`unexpected TXT lookup of ${name}`)),
};

function opts(over: Partial<ValidationOptions> = {}): ValidationOptions {
  return { resolver: noLookups, http01Port: 80, tlsAlpn01Port: 443, timeoutMs: 3_000, ...over };
}

function expectProblem(result: ValidationResult, type: string, detail: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.problem.type).toBe(`urn:ietf:params:acme:error:${type}`);
  expect(result.problem.detail).toMatch(detail);
}

const local = { type: 'ip', value: '127.0.0.1' } as const;

describe('http-01', () => {
  it('passes when the body is the key authorization, sent with the identifier as Host', { timeout: TEST_MS }, async () => {
    const server = await serveHttp((_req, res) => res.end(`${KEY_AUTH}\r\n`));
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: server.port }));
    expect(result).toMatchObject({ ok: true, addressUsed: '127.0.0.1' });
    expect(server.seen).toEqual([{ host: `127.0.0.1:${server.port}`, url: PATH }]);
  });

  it.skipIf(!ipv6)('connects to an IPv6 identifier in brackets', { timeout: TEST_MS }, async () => {
    const server = await serveHttp((_req, res) => res.end(KEY_AUTH), '::1');
    const result = await validateChallenge('http-01', { type: 'ip', value: '::1' }, TOKEN, KEY_AUTH, opts({ http01Port: server.port }));
    expect(result).toMatchObject({ ok: true, addressUsed: '::1' });
    expect(server.seen[0]?.host).toBe(`[::1]:${server.port}`);
  });

  it('refuses a body that is not the key authorization', { timeout: TEST_MS }, async () => {
    const server = await serveHttp((_req, res) => res.end('hello'));
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: server.port }));
    expectProblem(result, 'unauthorized', /not the key authorization; it starts "hello"/);
  });

  it('stops reading an oversize body', { timeout: TEST_MS }, async () => {
    const server = await serveHttp((_req, res) => {
      res.write(KEY_AUTH);
      const chunk = ' '.repeat(16 * 1024);
      // Keeps writing until the validator hangs up, which it must do after MAX_BODY_BYTES.
      const pump = () => (res.write(chunk) ? setImmediate(pump) : res.once('drain', pump));
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: server.port }));
    expectProblem(result, 'incorrectResponse', new RegExp(`larger than ${MAX_BODY_BYTES} bytes`));
  });

  it('refuses an answer other than 200', { timeout: TEST_MS }, async () => {
    const server = await serveHttp((_req, res) => res.writeHead(404).end(KEY_AUTH));
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: server.port }));
    expectProblem(result, 'unauthorized', /HTTP status 404/);
  });

  it('reports a refused connection', { timeout: TEST_MS }, async () => {
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: await closedPort() }));
    expectProblem(result, 'connection', /ECONNREFUSED/);
  });

  it('gives up on a server that never answers, within the timeout', { timeout: TEST_MS }, async () => {
    const port = await serveSilence();
    const started = Date.now();
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: port, timeoutMs: 500 }));
    expectProblem(result, 'connection', /no answer within the validation timeout of 500 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('follows a redirect on the same port', { timeout: TEST_MS }, async () => {
    const server = await serveHttp((req, res) => {
      if (req.url === PATH) res.writeHead(302, { location: '/elsewhere' }).end();
      else res.end(KEY_AUTH);
    });
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: server.port }));
    expect(result.ok).toBe(true);
    expect(server.seen.map((r) => r.url)).toEqual([PATH, '/elsewhere']);
  });

  it('follows a redirect to https on the tls-alpn-01 port without trusting its certificate', { timeout: TEST_MS }, async () => {
    const { cert, key } = await challengeCert({ names: [{ type: 'ip', value: '127.0.0.1' }] });
    const https = await serveTls({ cert, key }, (socket) => {
      socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${KEY_AUTH.length}\r\n\r\n${KEY_AUTH}`));
    });
    const server = await serveHttp((_req, res) => res.writeHead(301, { location: `https://127.0.0.1:${https.port}/x` }).end());
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: server.port, tlsAlpn01Port: https.port }));
    expect(result.ok).toBe(true);
  });

  it('never follows a redirect to a port that is not configured', { timeout: TEST_MS }, async () => {
    const forbidden = await serveHttp((_req, res) => res.end(KEY_AUTH));
    const server = await serveHttp((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${forbidden.port}/` }).end());
    const result = await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: server.port }));
    expectProblem(result, 'incorrectResponse', new RegExp(`followed only to port ${server.port}`));
    expect(forbidden.seen).toEqual([]);
  });

  it('refuses redirects to other schemes and endless redirects', { timeout: TEST_MS }, async () => {
    const ftp = await serveHttp((_req, res) => res.writeHead(302, { location: 'ftp://127.0.0.1/x' }).end());
    expectProblem(
      await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: ftp.port })),
      'incorrectResponse',
      /only http and https redirects/,
    );
    const loop = await serveHttp((_req, res) => res.writeHead(307, { location: PATH }).end());
    expectProblem(
      await validateChallenge('http-01', local, TOKEN, KEY_AUTH, opts({ http01Port: loop.port })),
      'incorrectResponse',
      /more than 3 redirects/,
    );
    expect(loop.seen).toHaveLength(4);
  });

  it('refuses a token that could change the path, a wildcard and a name no URL can hold', async () => {
    expectProblem(await validateChallenge('http-01', local, '../x', KEY_AUTH, opts()), 'malformed', /base64url/);
    expectProblem(await validateChallenge('http-01', { type: 'dns', value: '*.a.test' }, TOKEN, KEY_AUTH, opts()), 'malformed', /wildcard/);
    expectProblem(await validateChallenge('http-01', { type: 'dns', value: 'a b.test' }, TOKEN, KEY_AUTH, opts()), 'malformed', /cannot be the host/);
  });
});

describe('tls-alpn-01', () => {
  const good = { names: [{ type: 'ip', value: '127.0.0.1' }], digest: keyAuthorizationDigest(KEY_AUTH) } as const;

  /** `alpn: null` makes a server that does not speak ALPN. */
  async function validateAgainst(spec: Parameters<typeof challengeCert>[0], alpn: string[] | null = ['acme-tls/1']) {
    const server = await serveTls({ ...(await challengeCert(spec)), ...(alpn ? { alpn } : {}) });
    const result = await validateChallenge('tls-alpn-01', local, TOKEN, KEY_AUTH, opts({ tlsAlpn01Port: server.port }));
    return { result, sni: server.sni };
  }

  it('passes with a proper challenge certificate, sending the reverse name as SNI for an address', { timeout: TEST_MS }, async () => {
    const { result, sni } = await validateAgainst({ ...good, names: [...good.names] });
    expect(result).toMatchObject({ ok: true, addressUsed: '127.0.0.1' });
    expect(sni).toEqual(['1.0.0.127.in-addr.arpa']);
  });

  it('refuses a certificate without the acmeIdentifier extension', { timeout: TEST_MS }, async () => {
    const { result } = await validateAgainst({ names: [...good.names] });
    expectProblem(result, 'incorrectResponse', /one acmeIdentifier extension \(1\.3\.6\.1\.5\.5\.7\.1\.31\); it has 0/);
  });

  it('refuses a non-critical acmeIdentifier extension', { timeout: TEST_MS }, async () => {
    const { result } = await validateAgainst({ ...good, names: [...good.names], critical: false });
    expectProblem(result, 'incorrectResponse', /not critical/);
  });

  it('refuses the digest of another key authorization', { timeout: TEST_MS }, async () => {
    const { result } = await validateAgainst({ ...good, names: [...good.names], digest: keyAuthorizationDigest('other') });
    expectProblem(result, 'unauthorized', /does not hold SHA-256 of the key authorization/);
  });

  it('refuses an extension value with bytes after the OCTET STRING', { timeout: TEST_MS }, async () => {
    const der = new Uint8Array(AsnConvert.serialize(new OctetString(keyAuthorizationDigest(KEY_AUTH))));
    const { result } = await validateAgainst({ names: [...good.names], rawValue: new Uint8Array([...der, 0x05, 0x00]) });
    expectProblem(result, 'incorrectResponse', /not a DER OCTET STRING/);
  });

  it('refuses a certificate for another name or for more than one', { timeout: TEST_MS }, async () => {
    const other = await validateAgainst({ ...good, names: [{ type: 'ip', value: '127.0.0.2' }] });
    expectProblem(other.result, 'incorrectResponse', /must name only ip:127\.0\.0\.1; it names ip:127\.0\.0\.2/);
    const two = await validateAgainst({ ...good, names: [...good.names, { type: 'dns', value: 'a.test' }] });
    expectProblem(two.result, 'incorrectResponse', /it names ip:127\.0\.0\.1, dns:a\.test/);
  });

  it('refuses a server that does not negotiate acme-tls/1', { timeout: TEST_MS }, async () => {
    const { result } = await validateAgainst({ ...good, names: [...good.names] }, null);
    expectProblem(result, 'incorrectResponse', /did not negotiate ALPN protocol acme-tls\/1/);
  });

  it('reports a handshake the server refuses as a tls problem', { timeout: TEST_MS }, async () => {
    const { result } = await validateAgainst({ ...good, names: [...good.names] }, ['http/1.1']);
    expectProblem(result, 'tls', /TLS with 127\.0\.0\.1:\d+ \(SNI 1\.0\.0\.127\.in-addr\.arpa\) failed/);
  });

  it('reports a refused connection and a silent server', { timeout: TEST_MS }, async () => {
    const refused = await validateChallenge('tls-alpn-01', local, TOKEN, KEY_AUTH, opts({ tlsAlpn01Port: await closedPort() }));
    expectProblem(refused, 'connection', /ECONNREFUSED/);
    const started = Date.now();
    const silent = await validateChallenge('tls-alpn-01', local, TOKEN, KEY_AUTH, opts({ tlsAlpn01Port: await serveSilence(), timeoutMs: 500 }));
    expectProblem(silent, 'connection', /no answer within the validation timeout of 500 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('reverse names for tls-alpn-01 SNI', () => {
  it('maps IPv4 and IPv6 addresses to in-addr.arpa and ip6.arpa', () => {
    expect(reverseName('192.0.2.10')).toBe('10.2.0.192.in-addr.arpa');
    // The example of RFC 3596 s2.5.
    expect(reverseName('4321:0:1:2:3:4:567:89ab')).toBe('b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa');
    expect(reverseName('::1')).toBe(`1.${'0.'.repeat(31)}ip6.arpa`);
  });
});

describe('dns-01 without a DNS server', () => {
  it('reports NXDOMAIN as a dns problem', async () => {
    const resolver: NameResolver = {
      ...noLookups,
      txt: (name) => Promise.reject(new DnsLookupError('NXDOMAIN', `NXDOMAIN looking up TXT for ${name}`)),
    };
    const result = await validateChallenge('dns-01', { type: 'dns', value: 'gone.test' }, TOKEN, KEY_AUTH, opts({ resolver }));
    expectProblem(result, 'dns', /^DNS problem: NXDOMAIN looking up TXT for _acme-challenge\.gone\.test$/);
  });

  it('gives up on a resolver that never answers, within the timeout', { timeout: TEST_MS }, async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    onTestFinished(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const resolver = createResolver(`127.0.0.1:${silent.address().port}`);
    const started = Date.now();
    const result = await validateChallenge('dns-01', { type: 'dns', value: 'a.test' }, TOKEN, KEY_AUTH, opts({ resolver, timeoutMs: 500 }));
    expectProblem(result, 'dns', /TXT for _acme-challenge\.a\.test: no answer within the validation timeout of 500 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses an IP identifier', async () => {
    expectProblem(await validateChallenge('dns-01', local, TOKEN, KEY_AUTH, opts()), 'malformed', /RFC 8738/);
  });
});

describe.runIf(runChalltestsrvTests)('through pebble-challtestsrv DNS', () => {
  let dns: ChallTestSrv;
  let resolver: NameResolver;
  beforeAll(async () => {
    dns = await startChallTestSrv();
    resolver = createResolver(dns.dnsServer);
  });
  afterAll(() => dns?.stop());

  /** A fresh name per test, so records set by one test never answer another. */
  const fresh = () => `${randomUUID().slice(0, 8)}.test`;

  it('dns-01 passes when one TXT record among several is the digest, also for a wildcard', { timeout: TEST_MS }, async () => {
    const name = fresh();
    await dns.setTxt(`_acme-challenge.${name}`, 'unrelated');
    await dns.setTxt(`_acme-challenge.${name}`, dns01TxtValue(KEY_AUTH));
    for (const value of [name, `*.${name}`]) {
      const result = await validateChallenge('dns-01', { type: 'dns', value }, TOKEN, KEY_AUTH, opts({ resolver }));
      expect(result.ok).toBe(true);
    }
  });

  it('dns-01 refuses a missing TXT record and a wrong one', { timeout: TEST_MS }, async () => {
    const name = fresh();
    const missing = await validateChallenge('dns-01', { type: 'dns', value: name }, TOKEN, KEY_AUTH, opts({ resolver }));
    expectProblem(missing, 'unauthorized', new RegExp(`^no TXT record found at _acme-challenge\\.${name}$`));
    await dns.setTxt(`_acme-challenge.${name}`, dns01TxtValue('other'));
    const wrong = await validateChallenge('dns-01', { type: 'dns', value: name }, TOKEN, KEY_AUTH, opts({ resolver }));
    expectProblem(wrong, 'unauthorized', new RegExp(`^incorrect TXT record "${dns01TxtValue('other')}" found at _acme-challenge`));
  });

  it('reports SERVFAIL as a dns problem', { timeout: TEST_MS }, async () => {
    const name = fresh();
    await dns.setServfail(`_acme-challenge.${name}`);
    await dns.setServfail(name);
    const txt = await validateChallenge('dns-01', { type: 'dns', value: name }, TOKEN, KEY_AUTH, opts({ resolver }));
    expectProblem(txt, 'dns', /^DNS problem: SERVFAIL looking up TXT for _acme-challenge\./);
    const http = await validateChallenge('http-01', { type: 'dns', value: name }, TOKEN, KEY_AUTH, opts({ resolver }));
    expectProblem(http, 'dns', /^DNS problem: SERVFAIL looking up (A|AAAA) for /);
  });

  it('http-01 connects to the resolved address and follows a redirect to another name', { timeout: TEST_MS }, async () => {
    const [name, other] = [fresh(), fresh()];
    const server = await serveHttp((req, res) => {
      if (req.headers.host?.startsWith(name)) res.writeHead(302, { location: `http://${other}:${req.socket.localPort}/next` }).end();
      else res.end(KEY_AUTH);
    });
    const result = await validateChallenge('http-01', { type: 'dns', value: name }, TOKEN, KEY_AUTH, opts({ resolver, http01Port: server.port }));
    expect(result).toMatchObject({ ok: true, addressUsed: '127.0.0.1' });
    expect(server.seen).toEqual([
      { host: `${name}:${server.port}`, url: PATH },
      { host: `${other}:${server.port}`, url: '/next' },
    ]);
  });

  it('http-01 falls back to IPv4 when the AAAA address refuses', { timeout: TEST_MS }, async () => {
    const name = fresh();
    await dns.addAaaa(name, ['::1']);
    const server = await serveHttp((_req, res) => res.end(KEY_AUTH));
    const result = await validateChallenge('http-01', { type: 'dns', value: name }, TOKEN, KEY_AUTH, opts({ resolver, http01Port: server.port }));
    expect(result).toMatchObject({ ok: true, addressUsed: '127.0.0.1' });
  });

  it('tls-alpn-01 sends the name as SNI and checks it against the certificate', { timeout: TEST_MS }, async () => {
    const name = fresh();
    const digest = keyAuthorizationDigest(KEY_AUTH);
    const server = await serveTls({ ...(await challengeCert({ names: [{ type: 'dns', value: name }], digest })), alpn: ['acme-tls/1'] });
    const ok = await validateChallenge('tls-alpn-01', { type: 'dns', value: name }, TOKEN, KEY_AUTH, opts({ resolver, tlsAlpn01Port: server.port }));
    expect(ok).toMatchObject({ ok: true, addressUsed: '127.0.0.1' });
    const otherName = fresh();
    const wrong = await validateChallenge('tls-alpn-01', { type: 'dns', value: otherName }, TOKEN, KEY_AUTH, opts({ resolver, tlsAlpn01Port: server.port }));
    expectProblem(wrong, 'incorrectResponse', new RegExp(`must name only dns:${otherName}; it names dns:${name}`));
    expect(server.sni).toEqual([name, otherName]);
  });
});
