/**
 * The Store conformance suite on a real PostgreSQL (`CLAWFLEET_TEST_DATABASE_URL`, default the local server with
 * trust auth: postgres://postgres@127.0.0.1:5432/test). Each store lives in a schema of its own, dropped afterwards.
 * Also: replicas opening one fresh schema at once (the migration lock), schema isolation, and connection errors.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { ClawfleetError } from "../../src/contracts/errors.js";
import type { Store } from "../../src/contracts/store.js";
import { openStore } from "../../src/store/open.js";
import { openPostgresStore } from "../../src/store/postgres/open.js";
import { runStoreConformance } from "../conformance/store.js";
import { runIdentityStoreConformance } from "../conformance/identity-store.js";

const DATABASE_URL = process.env.CLAWFLEET_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const createdSchemas = new Set<string>();

/** A schema name unique to this run and call: `cf_test_<pid>_<random>`. */
function freshSchema(): string {
  const schema = `cf_test_${process.pid}_${randomBytes(6).toString("hex")}`;
  createdSchemas.add(schema);
  return schema;
}

async function withAdmin<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

async function dropSchema(schema: string): Promise<void> {
  await withAdmin((client) => client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`));
  createdSchemas.delete(schema);
}

after(async () => {
  // Schemas of tests that failed before their own cleanup.
  for (const schema of [...createdSchemas]) await dropSchema(schema);
});

runStoreConformance("PostgreSQL", async ({ now }) => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: DATABASE_URL, schema, now });
  return {
    store,
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
  };
});

runIdentityStoreConformance("PostgreSQL", async ({ now }) => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: DATABASE_URL, schema, now });
  return {
    store,
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
  };
});

describe("PostgreSQL store: migrations, schemas and connections", () => {
  before(async () => {
    await withAdmin((client) => client.query("select 1"));
  });

  test("3 replicas opening one fresh schema at once all succeed and see one schema, migrated once", async () => {
    const schema = freshSchema();
    const replicas = await Promise.all([0, 1, 2].map(() => openPostgresStore({ url: DATABASE_URL, schema, poolSize: 2 })));
    try {
      const state = await withAdmin(async (client) => ({
        tables: (await client.query<{ table_name: string }>("select table_name from information_schema.tables where table_schema = $1 order by table_name", [schema])).rows.map((row) => row.table_name),
        migrations: (await client.query<{ name: string }>(`select name from ${pg.escapeIdentifier(schema)}.kysely_migration order by name`)).rows.map((row) => row.name),
        columns: Object.fromEntries(
          (
            await client.query<{ column: string; type: string }>(
              "select table_name || '.' || column_name as column, data_type as type from information_schema.columns where table_schema = $1 and column_name in ('hash', 'overhead_ms', 'duration_ms', 'created_at_ms', 'settings_json', 'input_tokens', 'upstream_request_id')",
              [schema],
            )
          ).rows.map((row) => [row.column, row.type]),
        ),
      }));
      assert.deepEqual(state.tables, ["api_keys", "approval_grants", "approval_notifications", "audit_events", "channel_identities", "counters", "kysely_migration", "kysely_migration_lock", "login_attempts", "memberships", "permission_requests", "profile_versions", "profiles", "requests", "sessions", "tenants", "users"]);
      assert.deepEqual(state.migrations, ["001-initial", "002-requests", "003-governance", "004-approvals", "005-identity", "006-upstream-request-ids"]);
      assert.deepEqual(state.columns, {
        "api_keys.created_at_ms": "bigint",
        "api_keys.hash": "character varying",
        "approval_grants.created_at_ms": "bigint",
        "approval_notifications.created_at_ms": "bigint",
        "permission_requests.created_at_ms": "bigint",
        "channel_identities.created_at_ms": "bigint",
        "memberships.created_at_ms": "bigint",
        "requests.created_at_ms": "bigint",
        "requests.duration_ms": "double precision",
        "requests.input_tokens": "bigint",
        "requests.overhead_ms": "double precision",
        "requests.upstream_request_id": "character varying",
        "tenants.created_at_ms": "bigint",
        "tenants.settings_json": "text",
        "sessions.created_at_ms": "bigint",
        "users.created_at_ms": "bigint",
      });
      const created = await Promise.all(replicas.map((store, index) => store.tenants.create({ id: `replica-${index}`, profile: "default" })));
      assert.equal(new Set(created.map((tenant) => tenant.number)).size, 3);
      for (const store of replicas) assert.deepEqual((await store.tenants.list()).map((tenant) => tenant.id), ["replica-0", "replica-1", "replica-2"]);
    } finally {
      await Promise.all(replicas.map((store) => store.close()));
      await dropSchema(schema);
    }
  });

  test("reopening a migrated schema keeps its data and migrates nothing", async () => {
    const schema = freshSchema();
    const first = await openPostgresStore({ url: DATABASE_URL, schema });
    let second: Store | undefined;
    try {
      const tenant = await first.tenants.create({ id: "acme", profile: "default", settings: { plan: "pro" } });
      await first.close();
      second = await openPostgresStore({ url: DATABASE_URL, schema });
      assert.deepEqual(await second.tenants.get("acme"), tenant);
      assert.ok((await second.tenants.create({ id: "globex", profile: "default" })).number > tenant.number);
    } finally {
      await second?.close();
      await dropSchema(schema);
    }
  });

  test("stores in different schemas of one database do not see each other", async () => {
    const [schemaA, schemaB] = [freshSchema(), freshSchema()];
    const [storeA, storeB] = await Promise.all([openPostgresStore({ url: DATABASE_URL, schema: schemaA }), openPostgresStore({ url: DATABASE_URL, schema: schemaB })]);
    try {
      await storeA.tenants.create({ id: "acme", profile: "default" });
      assert.equal(await storeB.tenants.get("acme"), null);
      assert.equal((await storeB.tenants.create({ id: "acme", profile: "default" })).number, 1, "each schema has its own counter");
    } finally {
      await Promise.all([storeA.close(), storeB.close()]);
      await Promise.all([dropSchema(schemaA), dropSchema(schemaB)]);
    }
  });

  test("openStore picks PostgreSQL for postgres:// and postgresql:// URLs, with ?schema=", async () => {
    for (const scheme of ["postgres", "postgresql"]) {
      const schema = freshSchema();
      const url = new URL(DATABASE_URL);
      url.protocol = `${scheme}:`;
      url.searchParams.set("schema", schema);
      const store = await openStore({ databaseUrl: url.toString(), dataDir: "/nonexistent/never-created" });
      try {
        await store.tenants.create({ id: "acme", profile: "default" });
        const tables = await withAdmin((client) => client.query("select 1 from information_schema.tables where table_schema = $1 and table_name = 'tenants'", [schema]));
        assert.equal(tables.rowCount, 1);
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    }
  });

  test("an invalid schema name is a configuration error", async () => {
    for (const schema of ["Has-Caps", "1starts_with_digit", "semi;colon", "x".repeat(64), ""]) {
      await assert.rejects(openPostgresStore({ url: DATABASE_URL, schema }), (error: unknown) => error instanceof ClawfleetError && error.code === "CF_CONFIG_INVALID", schema);
    }
  });

  test("an unknown database is CF_INTERNAL naming the database, never the password", async () => {
    const url = new URL(DATABASE_URL);
    url.password = "s3cret-Pa55";
    url.pathname = "/clawfleet_no_such_database";
    await assert.rejects(openStore({ databaseUrl: url.toString(), dataDir: "" }), (error: unknown) => {
      assert.ok(error instanceof ClawfleetError);
      assert.equal(error.code, "CF_INTERNAL");
      assert.match(error.message, /clawfleet_no_such_database/);
      assert.doesNotMatch(`${error.message} ${JSON.stringify(error.details)}`, /s3cret/);
      return true;
    });
  });
});
