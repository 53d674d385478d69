import type { SecureContextOptions } from 'node:tls';

/**
 * BSI TR-02102-2 for every TLS endpoint Wardcert serves: TLS 1.2 and 1.3 only, AEAD suites with
 * forward secrecy, the NIST and Brainpool groups, ECDSA and RSA-PSS signatures.
 */
export const BSI_TLS: SecureContextOptions & { honorCipherOrder: boolean } = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_AES_128_CCM_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES256-GCM-SHA384',
  ].join(':'),
  ecdhCurve: 'P-256:P-384:P-521:brainpoolP256r1:brainpoolP384r1:brainpoolP512r1',
  sigalgs: [
    'ecdsa_secp256r1_sha256',
    'ecdsa_secp384r1_sha384',
    'ecdsa_secp521r1_sha512',
    'rsa_pss_rsae_sha256',
    'rsa_pss_rsae_sha384',
    'rsa_pss_rsae_sha512',
    'rsa_pss_pss_sha256',
    'rsa_pss_pss_sha384',
    'rsa_pss_pss_sha512',
  ].join(':'),
  honorCipherOrder: true,
};
