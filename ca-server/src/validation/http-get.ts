import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { networkFailure } from './connect.js';
import { ValidationFailure, type ValidationContext } from './types.js';

/** A key authorization is under 200 bytes; reading more would only let a device make us buffer. */
export const MAX_BODY_BYTES = 8 * 1024;

export type HttpAnswer = { status: number; location: string | undefined; body: string };

/** The URL's host without the brackets URL keeps around IPv6 literals. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/**
 * GETs `url` from `address`, with the URL's host in the Host header (and SNI for https). Reads the body
 * of a 200 answer only, and at most MAX_BODY_BYTES of it; other answers are judged by status alone.
 */
export function httpGet(url: URL, address: string, ctx: ValidationContext): Promise<HttpAnswer> {
  const where = `${url.href} (${isIP(address) === 6 ? `[${address}]` : address}:${portOf(url)})`;
  const options: https.RequestOptions = {
    host: address,
    port: portOf(url),
    path: url.pathname + url.search,
    headers: { host: url.host, accept: '*/*', 'user-agent': 'wardcert-validation', connection: 'close' },
    agent: false,
    signal: ctx.signal,
  };
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req =
      url.protocol === 'https:'
        ? https.request({
            ...options,
            ...(isIP(hostOf(url)) ? {} : { servername: hostOf(url) }),
            minVersion: 'TLSv1.2',
            // The device is asking for a certificate, so it may have no trusted one yet; the key
            // authorization in the body is the proof. Let's Encrypt follows https redirects the same way.
            rejectUnauthorized: false,
          })
        : http.request(options);
    req.on('error', (err) => reject(networkFailure(err, where, ctx)));
    req.on('response', (res) => {
      res.on('error', (err) => reject(networkFailure(err, where, ctx)));
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.destroy();
        resolve({ status, location: res.headers.location, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          res.destroy();
          reject(new ValidationFailure('incorrectResponse', `the body from ${where} is larger than ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, location: undefined, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('close', () => {
        if (!res.complete) reject(networkFailure(new Error('the connection closed before the body was complete'), where, ctx));
      });
    });
    req.end();
  });
}
