/**
 * An `AbortController` for the per-request hot paths (model calls, proxied runtime requests). Its signal is an
 * `AbortSignal` by shape: `aborted`, `reason`, `onabort`, `throwIfAborted()` and the `abort` event of an
 * `EventTarget`, which is all that undici, the AWS SDK (`abortSignal`), `timers/promises` and Node's
 * `events.addAbortListener` look at (they check the shape, not the class).
 *
 * Why not Node's own: on Node 20 every `AbortController#signal` is built as a plain `EventTarget` whose prototype
 * is then swapped (`createAbortSignal` in lib/internal/abort_controller.js; replaced by a real constructor in
 * Node 22, nodejs/node#52408). Measured here, each such signal leaves about 75 bytes in V8's old space that only a
 * full mark-compact reclaims (200,000 signals: +14 MB of old space, against +0.3 MB with this class, which is
 * also six times faster to create and abort). With two signals per model call, that was most of the gateway's
 * old-space growth under load — 0.37 MB/s at 500 calls/s, against 0.06 MB/s without — and so most of its
 * mark-compacts, each ~35 ms of marking on the event loop plus a pause of several ms (docs/benchmarks.md).
 *
 * Not a full replacement: the signal cannot be given to `AbortSignal.any` (which needs Node's internals) or to
 * `fetch` (which checks the class). To abort one controller when another signal aborts (what `AbortSignal.any`
 * is used for), use {@link forwardAbort}, as the routing attempts and the Bedrock adapter do; code that needs a
 * real `AbortSignal` forwards into a Node `AbortController` the same way.
 */

/** The signal of a {@link CallAbortController}: an `AbortSignal` to every consumer that checks its shape. */
export class CallAbortSignal extends EventTarget implements AbortSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: ((this: AbortSignal, event: Event) => unknown) | null = null;

  /** Throws `reason` when aborted (as `AbortSignal#throwIfAborted`). */
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
}

/** Creates a {@link CallAbortSignal} and aborts it, as `AbortController` does. */
export class CallAbortController {
  readonly signal = new CallAbortSignal();

  /**
   * Aborts the signal once: sets `aborted` and `reason` (default: a `DOMException` named `AbortError`, as
   * Node's), calls `onabort`, then dispatches the `abort` event to the listeners. Later calls do nothing.
   */
  abort(reason: unknown = new DOMException("This operation was aborted", "AbortError")): void {
    const signal = this.signal;
    if (signal.aborted) return;
    signal.aborted = true;
    signal.reason = reason;
    const event = new Event("abort");
    signal.onabort?.call(signal, event);
    signal.dispatchEvent(event);
  }
}

/**
 * Aborts `target` with `source`'s reason when `source` aborts (at once if it already has). Returns a function
 * that stops forwarding; call it when the operation `target` guards has finished, so `source` keeps no reference
 * to it.
 */
export function forwardAbort(source: AbortSignal, target: { abort(reason?: unknown): void }): () => void {
  if (source.aborted) {
    target.abort(source.reason);
    return () => undefined;
  }
  const onAbort = () => target.abort(source.reason);
  source.addEventListener("abort", onAbort, { once: true });
  return () => source.removeEventListener("abort", onAbort);
}
