/** Every migration, in order. A static list (no folder scanning) so bundles and dialects see the same set. */
import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./001-initial.js";

const MIGRATIONS: Record<string, Migration> = {
  "001-initial": initial,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};
