import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RequestOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  /** PEM trust anchors: the hospital root. Nothing else is trusted for https. */
  ca?: string;
  timeoutMs: number;
  /** Answers larger than this are cut off and refused: a CA never sends megabytes. */
  maxBytes?: number;
  /** Connection pool for this URL's protocol; Node's global agent when absent. */
  agent?: Agent;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

/** One HTTP(S) exchange with a deadline and a size bound. */
export function request(url: string, o: RequestOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: o.method,
        headers: { 'user-agent': 'wardcert-agent', ...o.headers, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) },
        signal: AbortSignal.timeout(o.timeoutMs),
        ...(o.agent ? { agent: o.agent } : {}),
        ...(target.protocol === 'https:' && o.ca ? { ca: o.ca, minVersion: 'TLSv1.2' as const } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new Error(`response from ${target.host} exceeds ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}
