/** Conversions between repository values and portable column values. */

/** Epoch milliseconds as read back: SQLite gives a number, pg gives int8 as a string. */
export type Millis = number | string;

export function toMillis(date: Date): number {
  const ms = date.getTime();
  // NaN would be stored as NULL by SQLite and rejected by pg; fail the same way on both.
  if (!Number.isFinite(ms)) throw new RangeError('invalid Date');
  return ms;
}

export function fromMillis(value: Millis): Date {
  return new Date(Number(value));
}

export function fromNullableMillis(value: Millis | null): Date | null {
  return value === null ? null : fromMillis(value);
}

/** Both drivers bind a Buffer as a blob/bytea; a bare Uint8Array is not handled the same way by both. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** SQLite treats a negative LIMIT as "no limit" while pg rejects it; refuse both up front. */
export function toCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}
