#!/usr/bin/env -S node --single-threaded-gc --no-memory-reducer --no-allocation-site-pretenuring
// The `clawfleet` command: runs the compiled CLI (`npm ci` builds it into dist/). Three V8 flags for the model
// gateway's latency (docs/benchmarks.md, "Session 4" and "Session 5"); `npm start` and the systemd unit pass the
// same flags, `node bin/clawfleet.js …` runs without them:
// --single-threaded-gc: V8 collects garbage on the main thread only, with no helper threads. On a machine with
// few cores that share the load, parallel GC helpers compete for the same cores as the request they delay; with
// them off the model gateway's added latency at p99 dropped from 17.1 ms to 2.3 ms at 500 requests/s and its CPU
// per request fell by a fifth.
// --no-memory-reducer: V8 no longer shrinks the heap with extra full collections once the process has been quiet
// for ~8 s. With the reducer on, a gateway that saw quiet spells fell into a slow mode: the optimized code of its
// hot path discarded ("weak objects" deoptimizations of ~150 functions) and young-generation collections of
// 8-11 ms instead of under 1 ms. In three A/B runs at 500 requests/s: added p99 1.0-14.1 ms with the reducer against
// 0.8-2.2 ms without, and 13-35 % more CPU per request. The cost: the heap keeps its working size while
// idle. Not a cure: later runs found servers with this flag in the same slow mode (young-generation objects
// surviving and promoted; docs/benchmarks.md, "Session 6"), so the reducer is at most one way into it.
// --no-allocation-site-pretenuring: V8 no longer decides, per allocation site, to allocate objects straight in the
// old generation when a young collection found most of that site's objects alive. Under steady load some servers
// kept "tenuring" sites (which ones was not traced); per-request objects from them then went to the old space,
// kept the young objects they point to alive, and young collections took 5-13 ms every ~0.35 s instead of
// 0.4-0.8 ms every ~0.1 s, the old generation growing ~2.5 MB per collection: the slow mode above
// (`--trace-pretenuring-statistics` shows the tenure decisions). AMD host, 2026-12-06: 4 of 8 servers without
// this flag fell into it (added p99 10-14 ms), 0 of 6 with it (1.2-4.0 ms); docs/benchmarks.md, "Session 8".
import { main } from "../dist/cli/main.js";

await main(process.argv);
