/**
 * The built-in `mock` provider: canned, deterministic answers (see `answer.ts`) with no network and no key, so
 * the whole platform runs end to end without a provider. Streams word by word. Honours the call's abort signal.
 */
import type { CanonicalRequest, CanonicalResponse, StreamEvent, TranslationWarning } from "../../contracts/chat.js";
import type { ProviderAdapter, ProviderCallContext } from "../../contracts/provider.js";
import { abortReason } from "../shared/upstream-http.js";
import { mockResponse, mockStreamEvents } from "./answer.js";

export class MockAdapter implements ProviderAdapter {
  readonly kind = "mock";
  readonly nativeApi = null;

  /** @param now clock in epoch ms (injectable for tests). */
  constructor(
    readonly id: string,
    private readonly now: () => number = Date.now,
  ) {}

  async generate(request: CanonicalRequest, context: ProviderCallContext): Promise<{ response: CanonicalResponse; warnings: TranslationWarning[] }> {
    if (context.signal.aborted) throw abortReason(context.signal);
    return { response: mockResponse(request, this.identity(context)), warnings: [] };
  }

  async stream(request: CanonicalRequest, context: ProviderCallContext): Promise<{ events: AsyncIterable<StreamEvent>; warnings: TranslationWarning[] }> {
    if (context.signal.aborted) throw abortReason(context.signal);
    const events = mockStreamEvents(request, this.identity(context));
    const signal = context.signal;
    async function* emit(): AsyncGenerator<StreamEvent, void, undefined> {
      for (const event of events) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal.aborted) throw abortReason(signal);
        yield event;
      }
    }
    return { events: emit(), warnings: [] };
  }

  async close(): Promise<void> {}

  private identity(context: ProviderCallContext): { id: string; createdAt: number } {
    return { id: `mock-${context.requestId}`, createdAt: Math.floor(this.now() / 1000) };
  }
}
