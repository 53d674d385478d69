import { exportJWK, FlattenedSign, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';

export interface AcmeResponse {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * A deliberately small ACME client for protocol tests: it signs exactly what a test asks for, so
 * tests can also send what no well-behaved client would.
 */
export class TestAcmeClient {
  kid?: string;
  private nonce?: string;
  private constructor(
    readonly directory: Record<string, any>,
    readonly privateKey: CryptoKey,
    readonly jwk: JWK,
    readonly alg: string,
  ) {}

  static async create(directoryUrl: string, alg = 'ES256'): Promise<TestAcmeClient> {
    const directory = await (await fetch(directoryUrl)).json();
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    return new TestAcmeClient(directory, privateKey as CryptoKey, await exportJWK(publicKey), alg);
  }

  thumbprint(): Promise<string> {
    return calculateJwkThumbprint(this.jwk, 'sha256');
  }

  async freshNonce(): Promise<string> {
    const res = await fetch(this.directory.newNonce, { method: 'HEAD' });
    return res.headers.get('replay-nonce')!;
  }

  /** Signs payload (undefined = POST-as-GET) for url. Options let tests break the rules on purpose. */
  async sign(
    url: string,
    payload: unknown,
    o: { useJwk?: boolean; nonce?: string; headerUrl?: string; extraHeader?: Record<string, unknown>; key?: CryptoKey; alg?: string } = {},
  ) {
    const nonce = o.nonce ?? this.nonce ?? (await this.freshNonce());
    this.nonce = undefined;
    const header: Record<string, unknown> = { alg: o.alg ?? this.alg, nonce, url: o.headerUrl ?? url, ...o.extraHeader };
    if (o.useJwk || !this.kid) header.jwk = this.jwk;
    else header.kid = this.kid;
    const bytes = payload === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(payload));
    return new FlattenedSign(bytes).setProtectedHeader(header as never).sign(o.key ?? this.privateKey);
  }

  async post(url: string, payload: unknown, o: Parameters<TestAcmeClient['sign']>[2] & { contentType?: string; rawBody?: string } = {}): Promise<AcmeResponse> {
    const body = o.rawBody ?? JSON.stringify(await this.sign(url, payload, o));
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': o.contentType ?? 'application/jose+json' }, body });
    this.nonce = res.headers.get('replay-nonce') ?? undefined;
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // PEM chains and empty bodies stay text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /** newAccount, with an EAB binding when a credential is given (RFC 8555 s7.3.4). */
  async register(eab?: { kid: string; hmacKey: string; alg?: string }, extra: Record<string, unknown> = {}): Promise<AcmeResponse> {
    const payload: Record<string, unknown> = { termsOfServiceAgreed: true, ...extra };
    if (eab) payload.externalAccountBinding = await eabJws(eab, this.jwk, this.directory.newAccount);
    const res = await this.post(this.directory.newAccount, payload, { useJwk: true });
    if (res.status === 201 || res.status === 200) this.kid = res.headers.get('location')!;
    return res;
  }
}

export async function eabJws(eab: { kid: string; hmacKey: string; alg?: string }, jwk: JWK, url: string) {
  const key = Buffer.from(eab.hmacKey, 'base64url');
  return new FlattenedSign(new TextEncoder().encode(JSON.stringify(jwk)))
    .setProtectedHeader({ alg: eab.alg ?? 'HS256', kid: eab.kid, url })
    .sign(key);
}
