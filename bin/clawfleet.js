#!/usr/bin/env -S node --single-threaded-gc
// The `clawfleet` command: runs the compiled CLI (`npm ci` builds it into dist/).
// --single-threaded-gc: V8 collects garbage on the main thread only, with no helper threads. On a machine with
// few cores that share the load, parallel GC helpers compete for the same cores as the request they delay; with
// them off the model gateway's added latency at p99 dropped from 17.1 ms to 2.3 ms at 500 requests/s and its CPU
// per request fell by a fifth (docs/benchmarks.md, "The p99 target"). `npm start` and the systemd unit pass the
// same flag; `node bin/clawfleet.js …` runs without it.
import { main } from "../dist/cli/main.js";

await main(process.argv);
