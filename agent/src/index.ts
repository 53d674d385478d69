// The agent as a library, for PACS and modality vendors who embed it.
export { createAgent, WardcertAgent, type AgentEvents, type ManagedListener, type ProbeOutcome, type RenewOutcome } from './agent.js';
export { loadAgentConfig, AgentConfigError } from './config/load.js';
export type { AgentConfig } from './config/schema.js';
export type { AgentStatus } from './status.js';
export type { CertificatePair } from './keystore/state.js';
// The ACME client layers on their own, for tools that drive a CA the way devices do (the load generator).
export { AcmeTransport, type AccountKey, type Directory, type Exchange, type TransportOptions } from './acme/transport.js';
export { newAccount, renewalInfo, type Eab, type Identifier } from './acme/api.js';
export { obtainCertificate, type ChallengeSolver, type OrderRequest } from './acme/flows.js';
export { AcmeError } from './acme/errors.js';
export { ariCertId } from './acme/cert-id.js';
export { makeCsr, newDeviceKey } from './keystore/device-key.js';
export { backoffMs } from './schedule/when.js';
