export { exists, FileExistsError, PRIVATE_MODE, PUBLIC_MODE, writeFileAtomic, writeFilesAtomic, type FileToWrite } from './atomic-file.js';
export { runCli } from './cli.js';
export { parseDuration, UNIT_MS } from './duration.js';
export { BSI_TLS } from './tls-policy.js';
