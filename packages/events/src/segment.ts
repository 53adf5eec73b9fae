import { crc32 } from "node:zlib";

/**
 * The embedded log's on-disk record format. Each record is `[u32 payload length][u32 crc32 of payload][payload]`
 * (little-endian); the payload's first byte is its type. A torn or corrupt record ends the readable file.
 */

const HEADER = 1;
const MESSAGE = 2;
const FRAME = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The first record of a segment file. */
export interface SegmentHeader {
  logId: string;
  /** Sequence before the file's first message (0 for a new log). */
  baseSeq: number;
}

/** One stored message as the segment file holds it. */
export interface SegmentMessage {
  seq: number;
  time: number;
  subject: string;
  msgId?: string;
  data: Uint8Array;
}

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  out.set(payload, FRAME);
  return out;
}

/** Encodes the header record. */
export function encodeHeader(header: SegmentHeader): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const payload = new Uint8Array(1 + json.length);
  payload[0] = HEADER;
  payload.set(json, 1);
  return frame(payload);
}

/** Encodes one message record. */
export function encodeMessage(m: SegmentMessage): Uint8Array {
  const subject = encoder.encode(m.subject);
  const msgId = encoder.encode(m.msgId ?? "");
  const payload = new Uint8Array(1 + 8 + 8 + 2 + subject.length + 2 + msgId.length + m.data.length);
  const view = new DataView(payload.buffer);
  let at = 0;
  payload[at++] = MESSAGE;
  view.setFloat64(at, m.seq, true);
  at += 8;
  view.setFloat64(at, m.time, true);
  at += 8;
  view.setUint16(at, subject.length, true);
  at += 2;
  payload.set(subject, at);
  at += subject.length;
  view.setUint16(at, msgId.length, true);
  at += 2;
  payload.set(msgId, at);
  at += msgId.length;
  payload.set(m.data, at);
  return frame(payload);
}

/** What {@link decodeSegment} found in a file. */
export interface DecodedSegment {
  header?: SegmentHeader;
  messages: SegmentMessage[];
  /** Length of the intact prefix; bytes after it are a torn or corrupt tail to truncate. */
  validLength: number;
}

/** Decodes a segment file, stopping at the first torn or corrupt record. */
export function decodeSegment(file: Uint8Array): DecodedSegment {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const messages: SegmentMessage[] = [];
  let header: SegmentHeader | undefined;
  let at = 0;
  while (at + FRAME <= file.length) {
    const length = view.getUint32(at, true);
    const sum = view.getUint32(at + 4, true);
    if (length === 0 || at + FRAME + length > file.length) break;
    const payload = file.subarray(at + FRAME, at + FRAME + length);
    if (crc32(payload) !== sum) break;
    const record = payload[0] === HEADER ? decodeHeader(payload) : decodeMessage(payload);
    if (record === undefined) break;
    if ("logId" in record) {
      if (header !== undefined || messages.length > 0) break;
      header = record;
    } else {
      messages.push(record);
    }
    at += FRAME + length;
  }
  return { header, messages, validLength: at };
}

function decodeHeader(payload: Uint8Array): SegmentHeader | undefined {
  try {
    const h = JSON.parse(decoder.decode(payload.subarray(1))) as SegmentHeader;
    return typeof h.logId === "string" && Number.isInteger(h.baseSeq) ? h : undefined;
  } catch {
    return undefined;
  }
}

function decodeMessage(payload: Uint8Array): SegmentMessage | undefined {
  if (payload[0] !== MESSAGE || payload.length < 21) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 1;
  const seq = view.getFloat64(at, true);
  at += 8;
  const time = view.getFloat64(at, true);
  at += 8;
  const subjectLength = view.getUint16(at, true);
  at += 2;
  const subject = decoder.decode(payload.subarray(at, at + subjectLength));
  at += subjectLength;
  if (at + 2 > payload.length) return undefined;
  const msgIdLength = view.getUint16(at, true);
  at += 2;
  const msgId = decoder.decode(payload.subarray(at, at + msgIdLength));
  at += msgIdLength;
  if (at > payload.length) return undefined;
  // A plain copy: the file's Buffer is dropped after opening.
  const data = new Uint8Array(payload.subarray(at));
  return msgId === "" ? { seq, time, subject, data } : { seq, time, subject, msgId, data };
}
