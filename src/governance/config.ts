/**
 * The `governance` section of `clawfleet.yaml` (embedded in `src/config/schema.ts`): the default permission
 * profile of new tenants and where the audit trail's JSON lines go.
 */
import { z } from "zod";

/** `governance.*`: closed, every field defaulted. */
export const governanceConfigSchema = z
  .object({
    defaultProfile: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "profile name must match ^[a-z0-9][a-z0-9-]{0,62}$")
      .default("readonly-agent")
      .describe("Permission profile of tenants created without one (a preset or a stored profile)"),
    audit: z
      .object({
        file: z.string().min(1).optional().describe("Audit trail as JSON lines, appended, mode 0600 (default <dataDir>/audit.jsonl)"),
      })
      .strict()
      .prefault({}),
  })
  .strict();
