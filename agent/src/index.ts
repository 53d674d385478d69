// The agent as a library, for PACS and modality vendors who embed it.
export { createAgent, WardcertAgent, type AgentEvents, type ManagedListener, type ProbeOutcome, type RenewOutcome } from './agent.js';
export { loadAgentConfig, AgentConfigError } from './config/load.js';
export type { AgentConfig } from './config/schema.js';
export type { AgentStatus } from './status.js';
export type { CertificatePair } from './keystore/state.js';
