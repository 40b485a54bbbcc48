/**
 * Decoders for payloads embedded in text: base64 (RFC 4648 §4 and the URL-safe alphabet §5), hex, percent
 * encoding (RFC 3986 §2.1), HTML character references (WHATWG HTML §13.5; numeric and the common named ones),
 * `\uXXXX`/`\xXX` escapes, ROT13 (only when the text mentions it) and Unicode tag characters. A decoded payload
 * is kept only when it is mostly printable text (so images, keys and hashes are dropped), and the work is
 * bounded: at most `maxPayloads` payloads of at most `maxBytes` decoded bytes in total.
 */
import { hiddenTagPayloads } from "./normalize.js";

/** A decoded payload and how it was encoded. */
export interface DecodedPayload {
  encoding: "base64" | "hex" | "percent" | "html-entity" | "escape" | "rot13" | "tag-characters";
  text: string;
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /(?:\\x[0-9a-fA-F]{2}){6,}|(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}){12,}(?![0-9a-fA-F])/g;
const PERCENT_RUN = /(?:%[0-9a-fA-F]{2}[^%\s"'<>]{0,3}){4,}/g;
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}));/g;
const UNICODE_ESCAPES = /(?:\\u[0-9a-fA-F]{4}){4,}/g;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", vert: "|", verbar: "|", lowbar: "_", sol: "/", colon: ":", lsqb: "[", rsqb: "]", lbrack: "[", rbrack: "]", excl: "!", num: "#", period: ".", comma: ",", semi: ";", equals: "=", lpar: "(", rpar: ")" };

/** True when `text` is mostly printable (≥ 85 % of characters are not control characters or U+FFFD). */
export function isMostlyText(text: string): boolean {
  if (text.length < 4) return false;
  let bad = 0;
  for (const character of text) {
    const code = character.codePointAt(0) as number;
    if (code === 0xfffd || (code < 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) || (code >= 0x7f && code < 0xa0)) bad += 1;
  }
  return bad / text.length < 0.15 && /\p{L}{3}/u.test(text);
}

function base64Text(run: string): string | null {
  const standard = run.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (standard.length % 4 === 1) return null;
  const decoded = Buffer.from(standard, "base64").toString("utf8");
  return isMostlyText(decoded) ? decoded : null;
}

function hexText(run: string): string | null {
  const digits = run.replace(/\\x/g, "");
  const decoded = Buffer.from(digits, "hex").toString("utf8");
  return isMostlyText(decoded) ? decoded : null;
}

function percentText(run: string): string | null {
  try {
    const decoded = decodeURIComponent(run);
    return isMostlyText(decoded) ? decoded : null;
  } catch {
    return null;
  }
}

/** Decodes HTML character references (numeric and common named ones); unknown names stay as written. */
export function decodeHtmlEntities(text: string): string {
  return text.replace(ENTITY, (whole, decimal: string | undefined, hex: string | undefined, name: string | undefined) => {
    const code = decimal !== undefined ? Number(decimal) : hex !== undefined ? Number.parseInt(hex, 16) : undefined;
    if (code !== undefined) return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    return NAMED_ENTITIES[(name as string).toLowerCase()] ?? whole;
  });
}

/** ROT13 of the ASCII letters. */
export function rot13(text: string): string {
  return text.replace(/[a-zA-Z]/g, (character) => {
    const base = character <= "Z" ? 65 : 97;
    return String.fromCharCode(((character.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** Payloads hidden in `text`, decoded one level deep (callers rescan each, which decodes nested layers). */
export function decodePayloads(text: string, limits: { maxPayloads: number; maxBytes: number }): DecodedPayload[] {
  const payloads: DecodedPayload[] = [];
  let bytes = 0;
  const add = (encoding: DecodedPayload["encoding"], decoded: string | null): boolean => {
    if (decoded === null || payloads.length >= limits.maxPayloads || bytes + decoded.length > limits.maxBytes) return payloads.length < limits.maxPayloads;
    payloads.push({ encoding, text: decoded });
    bytes += decoded.length;
    return payloads.length < limits.maxPayloads;
  };
  for (const payload of hiddenTagPayloads(text)) if (!add("tag-characters", payload)) return payloads;
  for (const match of text.matchAll(BASE64_RUN)) {
    // Long runs of one case or of digits only are identifiers or hex, not base64 of text.
    const run = match[0];
    if (!/[a-z]/.test(run) || !/[A-Z]/.test(run)) continue;
    if (!add("base64", base64Text(run))) return payloads;
  }
  for (const match of text.matchAll(HEX_RUN)) if (!add("hex", hexText(match[0]))) return payloads;
  for (const match of text.matchAll(PERCENT_RUN)) if (!add("percent", percentText(match[0]))) return payloads;
  for (const match of text.matchAll(UNICODE_ESCAPES)) if (!add("escape", match[0].replace(/\\u([0-9a-fA-F]{4})/g, (_all, code: string) => String.fromCharCode(Number.parseInt(code, 16))))) return payloads;
  ENTITY.lastIndex = 0;
  let entities = 0;
  for (const _match of text.matchAll(ENTITY)) if (++entities >= 3) break;
  if (entities >= 3) {
    const decoded = decodeHtmlEntities(text);
    if (decoded !== text && !add("html-entity", decoded)) return payloads;
  }
  if (/rot[\s-]?13|caesar/i.test(text)) add("rot13", rot13(text));
  return payloads;
}
