export { exists, FileExistsError, PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic } from './atomic-file.js';
export { runCli } from './cli.js';
export { parseDuration, UNIT_MS } from './duration.js';
export { BSI_TLS } from './tls-policy.js';
