/** A serial must never repeat under one issuer (RFC 5280, 4.1.2.2), so a second insert is a bug upstream. */
export class DuplicateSerialError extends Error {
  override readonly name = 'DuplicateSerialError';

  constructor(readonly serial: string) {
    super(`a certificate with serial ${serial} is already stored`);
  }
}
