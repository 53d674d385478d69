export { exists, FileExistsError, PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from './atomic-file.js';
export { BSI_TLS } from './tls-policy.js';
