/**
 * Splits server-sent-events text into frames for exact assertions in codec tests: each frame's `event` name
 * (null when absent) and its `data` parsed as JSON (or kept as text when it is not JSON, e.g. `[DONE]`).
 */
export interface SseFrame {
  event: string | null;
  data: unknown;
}

export function parseSseFrames(text: string): SseFrame[] {
  if (!text.endsWith("\n\n") && text.length > 0) throw new Error(`SSE text does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  return text
    .split("\n\n")
    .filter((block) => block.length > 0)
    .map((block) => {
      let event: string | null = null;
      const dataLines: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice("event: ".length);
        else if (line.startsWith("data: ")) dataLines.push(line.slice("data: ".length));
        else throw new Error(`unexpected SSE line: ${line}`);
      }
      const raw = dataLines.join("\n");
      let data: unknown = raw;
      try {
        data = JSON.parse(raw);
      } catch {
        // not JSON ([DONE]): keep the text
      }
      return { event, data };
    });
}
