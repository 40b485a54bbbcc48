// How long this machine takes a running process off its CPU, with nothing of Clawfleet involved:
// `node bench/hiccup.mjs [seconds=10] [spinners=1]` starts `spinners` processes, each pinned to its own CPU
// (taskset) and spinning on performance.now(); every gap between two consecutive readings longer than 0.5 ms is
// time the process was not running (preempted by the kernel or, in a VM, by the host). Prints, per spinner, how
// many gaps exceeded 0.5 / 2 / 5 ms, their sum and the longest. Any latency percentile measured here sits on top of
// these gaps; with as many spinners as CPUs it shows what happens when every core is busy at once. Bounded: each
// spinner runs for `seconds` (default 10).
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const seconds = Number(process.argv[2] ?? 10);

if (process.argv[3] === "--spin") {
  const end = performance.now() + seconds * 1000;
  const gaps = [];
  let last = performance.now();
  for (;;) {
    const now = performance.now();
    if (now - last > 0.5) gaps.push(now - last);
    last = now;
    if (now > end) break;
  }
  gaps.sort((left, right) => right - left);
  const over = (ms) => gaps.filter((gap) => gap > ms).length;
  const sum = gaps.reduce((total, gap) => total + gap, 0);
  process.stdout.write(
    `cpu ${process.argv[4]}: gaps > 0.5 ms ${gaps.length}, > 2 ms ${over(2)}, > 5 ms ${over(5)}; off the CPU ${sum.toFixed(1)} ms of ${seconds * 1000} ms; longest ${gaps.slice(0, 5).map((gap) => gap.toFixed(1)).join(" ") || "—"} ms\n`,
  );
} else {
  const spinners = Math.min(Number(process.argv[3] ?? 1), cpus().length);
  const children = Array.from({ length: spinners }, (_, cpu) =>
    spawn("taskset", ["-c", String(cpu), process.execPath, fileURLToPath(import.meta.url), String(seconds), "--spin", String(cpu)], { stdio: ["ignore", "inherit", "inherit"] }),
  );
  await Promise.all(children.map((child) => new Promise((resolve) => child.on("close", resolve))));
}
