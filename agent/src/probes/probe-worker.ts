import { probeDicomEcho } from './dicom-echo.js';
import { probeHl7 } from './hl7-ack.js';
import type { ServiceProbe } from './isolated.js';

// Runs one service probe in its own short-lived process and sends the result back.
process.once('message', (probe: ServiceProbe) => {
  const run = probe.kind === 'dicom' ? probeDicomEcho(probe.args) : probeHl7(probe.args);
  void run
    .catch((err: Error) => ({ ok: false, detail: err.message }))
    .then((result) => process.send!(result, () => process.exit(0)));
});
