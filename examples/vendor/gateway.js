#!/usr/bin/env node
// A vendor's gateway built on the Wardcert agent library: a DICOM SCP (dcmjs-dimse) that answers
// C-ECHO and stores C-STORE images in a folder, and an HL7 MLLP server (node-hl7-server) that
// acknowledges every message with AA, both over TLS on the agent's certificate, swapped in place
// when the agent renews it. Run: node examples/vendor/gateway.js --config agent.yaml [options]
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import dimse from 'dcmjs-dimse';
import { Server as Hl7Server } from 'node-hl7-server';
import { createAgent, loadAgentConfig } from '@wardcert/agent';

const { Server: DicomServer, Scp } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { Status, PresentationContextResult, RejectResult, RejectSource, RejectReason, TransferSyntax, SopClass, StorageClass } = dimse.constants;

const USAGE = 'usage: gateway.js --config FILE [--dicom HOST:PORT] [--hl7 HOST:PORT] [--store DIR] [--ae TITLE]';
const { values: args } = parseArgs({
  options: {
    config: { type: 'string' },
    dicom: { type: 'string', default: '0.0.0.0:2762' },
    hl7: { type: 'string', default: '0.0.0.0:2576' },
    store: { type: 'string', default: './received' },
    ae: { type: 'string', default: 'VENDOR-SCP' },
  },
});
if (!args.config) {
  console.error(USAGE);
  process.exit(2);
}

function hostPort(text) {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`"${text}" is not HOST:PORT\n${USAGE}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Bad flags or a bad config file: one line saying what is wrong, no stack trace. */
async function startupInput() {
  try {
    return { dicomAt: hostPort(args.dicom), hl7At: hostPort(args.hl7), config: await loadAgentConfig(args.config) };
  } catch (err) {
    console.error(`gateway: ${err.message}`);
    process.exit(2);
  }
}

const { dicomAt, hl7At, config } = await startupInput();
const storeDir = resolve(args.store);
await mkdir(storeDir, { recursive: true });

const agent = createAgent(config);
const log = agent.logger;
dimse.log.setLevel('warn');

// --- The DICOM SCP -----------------------------------------------------------------------------

const ACCEPTED_SYNTAXES = new Set([SopClass.Verification, ...Object.values(StorageClass)]);
const TRANSFER_SYNTAXES = new Set([TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]);
/** A SOP Instance UID comes from the network: only digits and dots make a file name. */
const SAFE_UID = /^[0-9]+(\.[0-9]+){1,63}$/;

class StoreScp extends Scp {
  associationRequested(association) {
    this.association = association;
    if (association.getCalledAeTitle() !== args.ae) {
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      return;
    }
    for (const { id } of association.getPresentationContexts()) {
      const context = association.getPresentationContext(id);
      const syntax = context.getTransferSyntaxUids().find((ts) => TRANSFER_SYNTAXES.has(ts));
      if (!ACCEPTED_SYNTAXES.has(context.getAbstractSyntaxUid())) context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      else if (!syntax) context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      else context.setResult(PresentationContextResult.Accept, syntax);
    }
    this.sendAssociationAccept();
  }

  cEchoRequest(request, callback) {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  cStoreRequest(request, callback) {
    const response = CStoreResponse.fromRequest(request);
    const uid = request.getAffectedSopInstanceUid();
    const dataset = request.getDataset();
    if (!dataset || !SAFE_UID.test(uid)) {
      response.setStatus(Status.ProcessingFailure);
      callback(response);
      return;
    }
    dataset.toFile(join(storeDir, `${uid}.dcm`), (err) => {
      if (err) log.error({ event: 'dicom.storeFailed', uid, err: err.message }, 'could not store the image');
      else log.info({ event: 'dicom.stored', uid }, 'image stored');
      response.setStatus(err ? Status.ProcessingFailure : Status.Success);
      callback(response);
    });
  }

  associationReleaseRequested() {
    this.sendAssociationReleaseResponse();
  }
}

// --- The certificate: first one, then hot reload ----------------------------------------------

// agent.start() is the agent's own schedule: renew inside the CA's window, back off while the CA
// is away, and answer `wardcert-agent renew|status --config FILE` through its control socket.
agent.on('error', (err) => log.error({ event: 'gateway.certificateError', err: err.message }, 'renewal failed; serving the current certificate'));
agent.on('renewed', () => log.info({ event: 'gateway.renewed' }, 'certificate renewed'));
await agent.start();
if (!agent.certificate()) {
  log.warn({ event: 'gateway.waiting' }, 'no certificate yet; the servers start once the agent has one');
  await once(agent, 'certificate');
}

const dicom = new DicomServer(StoreScp);
dicom.on('networkError', (err) => log.warn({ event: 'dicom.networkError', err: err.message }, 'DICOM network error'));
// dcmjs-dimse passes the port to net.Server#listen, which also takes { port, host }.
dicom.listen({ port: dicomAt.port, host: dicomAt.host }, { securityOptions: agent.tlsOptions(), associationTimeout: 60_000, pduTimeout: 60_000 });

const hl7 = new Hl7Server({ bindAddress: hl7At.host, tls: agent.tlsOptions() });
const inbound = hl7.createInbound({ port: hl7At.port }, async (req, res) => {
  log.info({ event: 'hl7.received', type: req.getMessage().get('MSH.9').toString() }, 'HL7 message acknowledged');
  await res.sendResponse('AA');
});
inbound.on('error', (err) => log.error({ event: 'hl7.error', err: err.message }, 'HL7 server error'));
// node-hl7-server 2.5.0 never empties a connection's buffer, so it would answer a second message on
// one connection with the first one's ACK (its issue #102, fixed in no release for Node 20). One
// message per connection keeps every ACK right; MLLP senders reconnect for the next message.
inbound.on('client.connect', (socket) => socket.on('data', (chunk) => String(chunk).includes('\x1c\x0d') && socket.end()));

/**
 * The tls.Server under each library: dcmjs-dimse keeps it in `server`, node-hl7-server in the
 * inbound's `_socket`. setSecureContext() on it is what DCMTK sees, since it sends no SNI; open
 * associations and MLLP sessions keep the certificate they started with.
 */
const tlsServers = () => [dicom.server, inbound._socket];
const swap = () => {
  for (const server of tlsServers()) server.setSecureContext(agent.tlsOptions());
  log.info({ event: 'gateway.reloaded', serial: agent.status().certificate?.serial }, 'servers swapped to the current certificate');
};
// Both libraries hand only some TLS options on (node-hl7-server: key and cert; dcmjs-dimse: no
// groups or signature algorithms): the full BSI policy comes with this first swap.
swap();
// 'certificate' comes with a renewal and with a rollback alike: serve whatever the agent installed.
agent.on('certificate', swap);

await Promise.all(tlsServers().map((server) => (server.listening ? undefined : once(server, 'listening'))));
log.info({ event: 'gateway.listening', dicom: args.dicom, hl7: args.hl7, ae: args.ae, store: storeDir }, 'gateway listening');

const stop = async () => {
  dicom.close();
  await inbound.close();
  await agent.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
