import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** id-at-commonName (X.520). */
export const COMMON_NAME = '2.5.4.3';

export class SubjectError extends Error {
  override readonly name = 'SubjectError';
}

/** Parses a distinguished name such as "CN=Wardcert Root,O=Example Hospital"; a CA name needs a CN. */
export function parseSubject(text: string): x509.Name {
  let name: x509.Name;
  try {
    name = new x509.Name(text);
  } catch (err) {
    throw new SubjectError(`subject "${text}" is not a distinguished name: ${(err as Error).message}`);
  }
  if (name.getField('CN').length === 0) {
    throw new SubjectError(`subject "${text}" has no CN; a CA name needs one (e.g. "CN=Wardcert Issuing CA,O=Hospital")`);
  }
  return name;
}
