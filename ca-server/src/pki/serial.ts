import { randomBytes } from 'node:crypto';

/**
 * A positive serial of 127 random bits (CA/B Forum asks for at least 64). The top bit is cleared so
 * DER needs no sign byte; the next one is set so every serial has the same length.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}
