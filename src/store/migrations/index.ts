/** Every migration, in order. A static list (no folder scanning) so bundles and dialects see the same set. */
import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./001-initial.js";
import * as requests from "./002-requests.js";
import * as governance from "./003-governance.js";
import * as approvals from "./004-approvals.js";
import * as identity from "./005-identity.js";
import * as upstreamRequestIds from "./006-upstream-request-ids.js";

const MIGRATIONS: Record<string, Migration> = {
  "001-initial": initial,
  "002-requests": requests,
  "003-governance": governance,
  "004-approvals": approvals,
  "005-identity": identity,
  "006-upstream-request-ids": upstreamRequestIds,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};
