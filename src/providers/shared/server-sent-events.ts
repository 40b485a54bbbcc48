/**
 * An incremental Server-Sent Events parser: text in, complete events out. Pure (no I/O); keeps only the
 * unfinished tail between calls, so a chunk may end anywhere (inside a field name, between `\r` and `\n`,
 * inside a multi-byte character when fed through {@link ServerSentEventParser.pushBytes}).
 *
 * Follows the WHATWG HTML "event stream interpretation" rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end with CRLF, LF or CR; `:` starts a comment; `data` lines accumulate (joined by "\n"); a blank line
 * dispatches; an event with no `data` is not dispatched; one leading space after the colon is dropped; a
 * leading byte-order mark is ignored. One leniency: {@link ServerSentEventParser.end} dispatches a final event
 * whose blank line never came (the spec discards it), so a server that closes right after its last `data:`
 * line still delivers it.
 */

/** One dispatched event. `event` is `message` when the stream named none. */
export interface ServerSentEvent {
  event: string;
  data: string;
  /** The `id` field, when the event carried one. */
  id?: string;
}

export class ServerSentEventParser {
  private buffer = "";
  private dataLines: string[] = [];
  private eventName = "";
  private eventId: string | undefined;
  private skipLeadingLineFeed = false;
  private atStreamStart = true;
  private readonly decoder = new TextDecoder("utf-8");

  /** Feeds raw bytes (UTF-8, split anywhere); returns the events completed by them. */
  pushBytes(chunk: Uint8Array): ServerSentEvent[] {
    return this.push(this.decoder.decode(chunk, { stream: true }));
  }

  /** Feeds decoded text; returns the events completed by it, in order. */
  push(text: string): ServerSentEvent[] {
    let input = text;
    if (this.atStreamStart && input.length > 0) {
      this.atStreamStart = false;
      if (input.charCodeAt(0) === 0xfeff) input = input.slice(1);
    }
    if (this.skipLeadingLineFeed && input.length > 0) {
      this.skipLeadingLineFeed = false;
      if (input.charCodeAt(0) === 0x0a) input = input.slice(1);
    }
    this.buffer += input;
    const events: ServerSentEvent[] = [];
    let start = 0;
    const buffer = this.buffer;
    for (let position = 0; position < buffer.length; position += 1) {
      const code = buffer.charCodeAt(position);
      if (code !== 0x0a && code !== 0x0d) continue;
      this.processLine(buffer.slice(start, position), events);
      if (code === 0x0d) {
        if (position + 1 < buffer.length) {
          if (buffer.charCodeAt(position + 1) === 0x0a) position += 1;
        } else {
          this.skipLeadingLineFeed = true;
        }
      }
      start = position + 1;
    }
    this.buffer = buffer.slice(start);
    return events;
  }

  /** Ends the stream: flushes the decoder and dispatches a last event left without its blank line. */
  end(): ServerSentEvent[] {
    const events = this.push(this.decoder.decode());
    if (this.buffer.length > 0) {
      this.processLine(this.buffer, events);
      this.buffer = "";
    }
    this.dispatch(events);
    return events;
  }

  private processLine(line: string, events: ServerSentEvent[]): void {
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 0x3a) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case "data":
        this.dataLines.push(value);
        return;
      case "event":
        this.eventName = value;
        return;
      case "id":
        if (!value.includes("\u0000")) this.eventId = value;
        return;
      default:
        return;
    }
  }

  private dispatch(events: ServerSentEvent[]): void {
    if (this.dataLines.length > 0) {
      const event: ServerSentEvent = { event: this.eventName === "" ? "message" : this.eventName, data: this.dataLines.join("\n") };
      if (this.eventId !== undefined) event.id = this.eventId;
      events.push(event);
    }
    this.dataLines = [];
    this.eventName = "";
  }
}
