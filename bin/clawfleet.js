#!/usr/bin/env node
// The `clawfleet` command: runs the compiled CLI (`npm ci` builds it into dist/).
import { main } from "../dist/cli/main.js";

await main(process.argv);
