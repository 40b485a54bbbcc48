/**
 * Image references in client requests. OpenAI carries images as a URL that may be a `data:` URL
 * (RFC 2397: `data:<media type>;base64,<data>`); canonical form keeps remote URLs as URLs and turns base64
 * `data:` URLs into inline base64, which every provider accepts.
 */
import type { ImageSource } from "../../contracts/chat.js";

const BASE64_DATA_URL = /^data:([^;,]+)((?:;[^;,=]+=[^;,]*)*);base64,(.*)$/is;

/** `data:image/png;base64,AAAA` → `{kind: "base64", mediaType: "image/png", data: "AAAA"}`; any other URL → `{kind: "url"}`. */
export function imageSourceFromUrl(url: string): ImageSource {
  const match = BASE64_DATA_URL.exec(url);
  if (match && match[1] !== undefined && match[3] !== undefined) return { kind: "base64", mediaType: match[1].toLowerCase(), data: match[3] };
  return { kind: "url", url };
}
