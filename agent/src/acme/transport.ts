import type { Agent } from 'node:http';
import { FlattenedSign, type JWK } from 'jose';
import { AcmeError } from './errors.js';
import { request, type HttpResponse, type RequestOptions } from './request.js';
import { retryAfterMs } from './retry-after.js';

export interface AccountKey {
  privateKey: CryptoKey;
  jwk: JWK;
  alg: 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'EdDSA';
}

export interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert?: string;
  keyChange?: string;
  renewalInfo?: string;
  /** Wardcert's status endpoint; other ACME servers have none and get no reports. */
  wardcertAgentReport?: string;
  meta?: { externalAccountRequired?: boolean; profiles?: Record<string, string> };
}

export interface TransportOptions {
  directoryUrl: string;
  /** PEM of the hospital root: the only trust anchor for the CA's HTTPS. */
  trust?: string;
  /** Connection pool for the CA's URLs (an https.Agent for https): a load generator bounds its sockets with it. */
  agent?: Agent;
  key: AccountKey;
  timeoutMs?: number;
  /** How long one call may wait in total for Retry-After answers and retries. */
  patienceMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told of every HTTP exchange with the CA (method, URL, status, milliseconds): load measurement. */
  onExchange?: (exchange: Exchange) => void;
}

export interface Exchange {
  method: string;
  url: string;
  /** 0 when no answer came (network failure, timeout). */
  status: number;
  ms: number;
}

export interface AcmeResponse<T = unknown> {
  status: number;
  headers: HttpResponse['headers'];
  body: T;
  location?: string;
}

const MAX_ATTEMPTS = 6;

/**
 * The signed transport of RFC 8555 s6: it keeps one nonce from each answer, signs with the account
 * key ("jwk" until the account URL is known, "kid" after), retries a badNonce at once and a 429/503
 * or 5xx after Retry-After or a jittered backoff, within a bounded patience.
 */
export class AcmeTransport {
  kid: string | undefined;
  private nonce: string | undefined;
  private dir: Directory | undefined;
  private readonly timeoutMs: number;
  private readonly patienceMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(readonly o: TransportOptions) {
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.patienceMs = o.patienceMs ?? 120_000;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async directory(): Promise<Directory> {
    if (!this.dir) this.dir = (await this.getJson<Directory>(this.o.directoryUrl)).body;
    return this.dir;
  }

  async getJson<T>(url: string): Promise<AcmeResponse<T>> {
    return this.withRetries(async () => this.parse<T>(await this.exchange(url, { method: 'GET', timeoutMs: this.timeoutMs, ...this.connection() })));
  }

  /** A signed POST; `payload` undefined is POST-as-GET. `raw` returns the body as text (certificate chains). */
  async post<T = any>(url: string, payload: unknown, opts: { useJwk?: boolean; raw?: boolean } = {}): Promise<AcmeResponse<T>> {
    return this.withRetries(async () => {
      const body = JSON.stringify(await this.sign(url, payload, opts.useJwk ?? !this.kid));
      const res = await this.exchange(url, { method: 'POST', body, headers: { 'content-type': 'application/jose+json' }, timeoutMs: this.timeoutMs, ...this.connection() });
      return this.parse<T>(res, opts.raw);
    });
  }

  async sign(url: string, payload: unknown, useJwk: boolean) {
    const header: Record<string, unknown> = { alg: this.o.key.alg, nonce: await this.takeNonce(), url };
    if (useJwk) header.jwk = this.o.key.jwk;
    else header.kid = this.kid;
    const bytes = payload === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload));
    return new FlattenedSign(bytes).setProtectedHeader(header as never).sign(this.o.key.privateKey);
  }

  private async exchange(url: string, o: RequestOptions): Promise<HttpResponse> {
    if (!this.o.onExchange) return request(url, o);
    const started = performance.now();
    let status = 0;
    try {
      const res = await request(url, o);
      status = res.status;
      return res;
    } finally {
      this.o.onExchange({ method: o.method, url, status, ms: performance.now() - started });
    }
  }

  private connection() {
    return { ...(this.o.trust ? { ca: this.o.trust } : {}), ...(this.o.agent ? { agent: this.o.agent } : {}) };
  }

  private async takeNonce(): Promise<string> {
    const kept = this.nonce;
    this.nonce = undefined;
    if (kept) return kept;
    const dir = await this.directory();
    const res = await this.exchange(dir.newNonce, { method: 'HEAD', timeoutMs: this.timeoutMs, ...this.connection() });
    const nonce = header(res, 'replay-nonce');
    if (!nonce) throw new AcmeError(res.status, 'urn:ietf:params:acme:error:badNonce', 'the server gave no nonce');
    return nonce;
  }

  private parse<T>(res: HttpResponse, raw = false): AcmeResponse<T> {
    const nonce = header(res, 'replay-nonce');
    if (nonce) this.nonce = nonce;
    const type = header(res, 'content-type') ?? '';
    const text = res.body.toString('utf8');
    if (res.status >= 400) {
      let problem: { type?: string; detail?: string; subproblems?: unknown[] } = {};
      try {
        problem = type.includes('json') ? JSON.parse(text) : {};
      } catch {
        // a proxy's HTML error page: keep the status
      }
      throw new AcmeError(res.status, problem.type ?? `http:${res.status}`, problem.detail ?? text.slice(0, 200), retryAfterMs(res.headers['retry-after']), problem.subproblems);
    }
    const location = header(res, 'location');
    return {
      status: res.status,
      headers: res.headers,
      body: (raw || !type.includes('json') ? text : text ? JSON.parse(text) : undefined) as T,
      ...(location ? { location } : {}),
    };
  }

  private async withRetries<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.patienceMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const wait = this.retryDelay(err, attempt);
        if (wait === undefined || attempt >= MAX_ATTEMPTS || Date.now() + wait > deadline) throw err;
        await this.sleep(wait);
      }
    }
  }

  /** undefined: do not retry. */
  private retryDelay(err: unknown, attempt: number): number | undefined {
    const backoff = Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    if (err instanceof AcmeError) {
      if (err.is('badNonce')) return 0;
      if (err.status === 429 || err.status === 503 || err.status >= 500) return err.retryAfterMs ?? backoff;
      return undefined;
    }
    // Network failures: the CA may be restarting.
    return backoff;
  }
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
