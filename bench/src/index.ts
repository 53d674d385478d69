// The load generator as a library, for tests that drive several instances (the failover test).
export { runBench, type BenchOptions, type BenchResult, type StormResult } from './run.js';
export { Device, type DeviceOptions } from './device.js';
export { ExchangeLog } from './exchange-log.js';
export { deviceIdentifier } from './identifiers.js';
export { startResponder, type SharedResponder } from './responder.js';
export { cpuMs, memoryMb, pidOfListener } from './server-stats.js';
