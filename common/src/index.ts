export { BSI_TLS } from './tls-policy.js';
