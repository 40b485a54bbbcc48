/**
 * Small helpers to observe and signal the processes of a runtime: bwrap's `--info-fd` JSON, the launcher
 * as the child of the sandbox's pid 1 (`/proc/<pid>/task/<pid>/children`), signals that tolerate already
 * exited processes, and timers that never keep the platform alive.
 */
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";

/** Resolves after `ms` milliseconds (unref'd timer). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Resolves true when `promise` settles within `ms`, false on timeout. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  await Promise.race([promise.then(() => (settled = true), () => (settled = true)), delay(ms)]);
  return settled;
}

/**
 * Reads bwrap's `--info-fd` JSON (`{"child-pid": 1234, …}`) from `stream`.
 * @returns the host pid of the sandbox's pid 1, or null when the stream ends without it or after `timeoutMs`
 */
export function readSandboxChildPid(stream: Readable | null | undefined, timeoutMs: number): Promise<number | null> {
  if (!stream) return Promise.resolve(null);
  return new Promise((resolve) => {
    let text = "";
    let done = false;
    const finish = (pid: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.removeAllListeners("data");
      stream.resume();
      resolve(pid);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    timer.unref();
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
      const match = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (match?.[1] !== undefined) finish(Number(match[1]));
    });
    stream.on("end", () => finish(null));
    stream.on("error", () => finish(null));
  });
}

/** Host pids of the direct children of `pid` (empty when it is gone or has none). */
export async function childPidsOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
    return text
      .split(/\s+/)
      .filter((part) => part !== "")
      .map(Number)
      .filter((value) => Number.isInteger(value) && value > 0);
  } catch {
    return [];
  }
}

/**
 * The first child of `pid`, polling for up to `timeoutMs` (bwrap sets up mounts before it forks the
 * launcher).
 */
export async function waitForFirstChild(pid: number, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [first] = await childPidsOf(pid);
    if (first !== undefined) return first;
    if (Date.now() >= deadline) return null;
    await delay(50);
  }
}

/** Sends `signal` to `pid` (a negative pid signals a process group). False when there is no such process. */
export function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
