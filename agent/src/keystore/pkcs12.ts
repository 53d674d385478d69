import * as asn1js from 'asn1js';
import { createPrivateKey, randomBytes } from 'node:crypto';
import * as pkijs from 'pkijs';
import { splitPem } from './pem.js';

const KEY_BAG = '1.2.840.113549.1.12.10.1.2'; // pkcs8ShroudedKeyBag
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
const FRIENDLY_NAME = '1.2.840.113549.1.9.20';
/** The alias Java's keytool and engines show for the key entry. */
const PKCS12_ALIAS = 'wardcert';
const ITERATIONS = 100_000;
/** PBES2 with AES-256-CBC and HMAC-SHA256, as Java 11+ keystores and OpenSSL 3 read them. */
const ENCRYPTION = {
  // pkijs draws the IV itself; the type asks for one all the same.
  contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 } as pkijs.ContentEncryptionAlgorithm,
  hmacHashAlgorithm: 'SHA-256',
  iterationCount: ITERATIONS,
};

/**
 * The key and chain as a password-protected PKCS#12 bundle, for Java interface engines and PACS
 * (dcm4che keystores) that read PKCS12 and not PEM. Built with pkijs.
 */
export async function makePkcs12(keyPem: string, chainPem: string, password: string): Promise<Uint8Array> {
  const engine = new pkijs.CryptoEngine({ name: 'node', crypto: globalThis.crypto });
  const pass = new TextEncoder().encode(password).buffer as ArrayBuffer;
  const localKeyId = new pkijs.Attribute({ type: LOCAL_KEY_ID, values: [new asn1js.OctetString({ valueHex: randomBytes(20) })] });
  const alias = new pkijs.Attribute({ type: FRIENDLY_NAME, values: [new asn1js.BmpString({ value: PKCS12_ALIAS })] });
  const keyDer = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  const certs = splitPem(chainPem).map((pem) => pkijs.Certificate.fromBER(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
  if (certs.length === 0) throw new Error('no certificate to put into the PKCS#12 bundle');

  const keyBag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: pkijs.PrivateKeyInfo.fromBER(keyDer) });
  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0,
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            { privacyMode: 0, value: new pkijs.SafeContents({ safeBags: [new pkijs.SafeBag({ bagId: KEY_BAG, bagValue: keyBag, bagAttributes: [alias, localKeyId] })] }) },
            {
              privacyMode: 1,
              value: new pkijs.SafeContents({
                safeBags: certs.map(
                  (cert, i) => new pkijs.SafeBag({ bagId: CERT_BAG, bagValue: new pkijs.CertBag({ parsedValue: cert }), ...(i === 0 ? { bagAttributes: [alias, localKeyId] } : {}) }),
                ),
              }),
            },
          ],
        },
      }),
    },
  });
  await keyBag.makeInternalValues({ password: pass, ...ENCRYPTION }, engine);
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues({ safeContents: [{}, { password: pass, ...ENCRYPTION }] }, engine);
  await pfx.makeInternalValues({ password: pass, iterations: ITERATIONS, pbkdf2HashAlgorithm: 'SHA-256', hmacHashAlgorithm: 'SHA-256' }, engine);
  return new Uint8Array(pfx.toSchema().toBER(false));
}
