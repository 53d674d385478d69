/** RFC 5424 s6.2.1: facility 10, security/authorization messages. */
const FACILITY_AUTHPRIV = 10;
/** Severity 5 (notice) for what went as meant, 4 (warning) for a failure or refusal. */
const NOTICE = 5;
const WARNING = 4;
/** IHE ITI-20 requires this MSGID for audit messages in the RFC 3881 / DICOM format. */
export const ATNA_MSGID = 'IHE+RFC-3881';
const APP_NAME = 'wardcert-ca';
/** RFC 5424 s7.3.1: meta sequenceId runs 1..2147483647. */
const MAX_SEQUENCE_ID = 2_147_483_647;
const BOM = '\uFEFF';

export interface SyslogFields {
  at: Date;
  hostname: string;
  failure: boolean;
  /** The audit entry's sequence number: a receiver can tell repeats and order by it. */
  seq: number;
  xml: string;
}

/** RFC 5424 HOSTNAME: 1-255 printable US-ASCII characters, else the nil value. */
function headerHost(name: string): string {
  return /^[\x21-\x7e]{1,255}$/.test(name) ? name : '-';
}

/** One RFC 5424 syslog message carrying an audit message, with the UTF-8 BOM s6.4 asks for. */
export function syslogMessage(f: SyslogFields): Buffer {
  const pri = FACILITY_AUTHPRIV * 8 + (f.failure ? WARNING : NOTICE);
  const sequenceId = ((f.seq - 1) % MAX_SEQUENCE_ID) + 1;
  const header = `<${pri}>1 ${f.at.toISOString()} ${headerHost(f.hostname)} ${APP_NAME} ${process.pid} ${ATNA_MSGID} [meta sequenceId="${sequenceId}"]`;
  return Buffer.from(`${header} ${BOM}${f.xml}`, 'utf8');
}

/** RFC 5425 s4.3 octet counting: MSG-LEN SP SYSLOG-MSG. */
export function octetCountedFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}
