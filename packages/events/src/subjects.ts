import { EventLogError } from "./errors";

/** Every change event's subject starts with this prefix; the JetStream stream captures `concord.events.>`. */
export const SUBJECT_PREFIX = "concord.events";

/** The filter matching every change event. */
export const ALL_EVENTS = `${SUBJECT_PREFIX}.>`;

const SAFE = /^[A-Za-z0-9_-]$/;
const EMPTY_TOKEN = "%";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Escapes a value into one NATS subject token: letters, digits, `_` and `-` stay, every other byte of its UTF-8
 * form becomes `%XX`, and the empty string becomes a lone `%`. The result never holds `.`, `*`, `>` or
 * whitespace, and {@link unescapeToken} reverses it.
 */
export function escapeToken(value: string): string {
  if (value === "") return EMPTY_TOKEN;
  let out = "";
  for (const ch of value) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of encoder.encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Reverses {@link escapeToken}. */
export function unescapeToken(token: string): string {
  if (token === EMPTY_TOKEN) return "";
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const ch = token[i] as string;
    if (ch === "%") {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new EventLogError("NotValid", `malformed subject token ${token}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (SAFE.test(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      throw new EventLogError("NotValid", `malformed subject token ${token}`);
    }
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch (cause) {
    throw new EventLogError("NotValid", `malformed subject token ${token}`, { cause });
  }
}

/** The parts of a change event that name its entity. */
export interface EntityRef {
  modelUuid: string;
  kind: string;
  id: string;
}

/** The entity's subject: `concord.events.<modelUuid>.<kind>.<escapedId>`, one subject per entity. */
export function subjectFor(event: EntityRef): string {
  return `${SUBJECT_PREFIX}.${escapeToken(event.modelUuid)}.${escapeToken(event.kind)}.${escapeToken(event.id)}`;
}

/** Reverses {@link subjectFor}. */
export function parseSubject(subject: string): EntityRef {
  const tokens = subject.split(".");
  if (tokens.length !== 5 || `${tokens[0]}.${tokens[1]}` !== SUBJECT_PREFIX) {
    throw new EventLogError("NotValid", `${subject} is not a change event subject`);
  }
  return {
    modelUuid: unescapeToken(tokens[2] as string),
    kind: unescapeToken(tokens[3] as string),
    id: unescapeToken(tokens[4] as string),
  };
}

/** A filter for the events of one model, optionally of one kind (e.g. all units of a model). */
export function subjectFilter(scope: { modelUuid?: string; kind?: string } = {}): string {
  const model = scope.modelUuid === undefined ? "*" : escapeToken(scope.modelUuid);
  const kind = scope.kind === undefined ? "*" : escapeToken(scope.kind);
  return `${SUBJECT_PREFIX}.${model}.${kind}.*`;
}

/** Whether a subject matches a NATS filter (`*` one token, a final `>` one or more tokens). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === ">") return i === f.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Throws `NotValid` unless the subject is a literal NATS subject (no wildcards, no empty tokens or spaces). */
export function validateSubject(subject: string): void {
  if (!/^[^\s.*>]+(\.[^\s.*>]+)*$/.test(subject)) {
    throw new EventLogError("NotValid", `invalid subject ${JSON.stringify(subject)}`);
  }
}

/** Throws `NotValid` unless the subject is a literal subject under `concord.events.`: what a log accepts. */
export function validateEventSubject(subject: string): void {
  validateSubject(subject);
  if (!subjectMatches(ALL_EVENTS, subject)) {
    throw new EventLogError("NotValid", `${subject} is not under ${SUBJECT_PREFIX}`);
  }
}
