import type { IncomingMessage } from 'node:http';
import { AcmeProblem } from './problems.js';

export const MAX_BODY_BYTES = 64 * 1024;

/** Reads a request body, refusing more than the limit without buffering it. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new AcmeProblem('malformed', `the request body exceeds ${limit} bytes`, { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.destroy();
      throw new AcmeProblem('malformed', `the request body exceeds ${limit} bytes`, { status: 413 });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
