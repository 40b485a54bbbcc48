#!/usr/bin/env -S node --single-threaded-gc --no-memory-reducer
// The `clawfleet` command: runs the compiled CLI (`npm ci` builds it into dist/). Two V8 flags for the model
// gateway's latency (docs/benchmarks.md, "The p99 target"); `npm start` and the systemd unit pass the same flags,
// `node bin/clawfleet.js …` runs without them:
// --single-threaded-gc: V8 collects garbage on the main thread only, with no helper threads. On a machine with
// few cores that share the load, parallel GC helpers compete for the same cores as the request they delay; with
// them off the model gateway's added latency at p99 dropped from 17.1 ms to 2.3 ms at 500 requests/s and its CPU
// per request fell by a fifth.
// --no-memory-reducer: V8 no longer shrinks the heap with extra full collections once the process has been quiet
// for ~8 s. Those memory-reducing collections also threw away the optimized code of the whole hot path ("weak
// objects" deoptimizations of ~150 functions); the next burst of traffic then ran unoptimized while V8 recompiled
// on its helper threads: in two A/B runs up to a fifth more CPU per request and an added p99 of 1.6-1.9 ms
// against 0.8-1.0 ms at 500 requests/s. The cost: the heap keeps its working size while idle.
import { main } from "../dist/cli/main.js";

await main(process.argv);
