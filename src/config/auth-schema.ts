/**
 * The `auth` section of `clawfleet.yaml`: which identity methods the ingress and the admin API accept besides
 * tenant API keys and the admin token, browser login, and how identity-provider claims map to roles.
 * Imported by `schema.ts`; kept in its own file so the identity work does not crowd the main schema.
 */
import { z } from "zod";

const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const;
/** A boolean from YAML (`true`) or from an environment variable (`"true"` / `"false"`). */
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]);

/** OIDC bearer JWTs (`Authorization: Bearer <JWT>`): a generic issuer, or an Amazon Cognito user pool. */
export const oidcAuthSchema = z
  .object({
    issuer: z.string().min(1).optional().describe("Exact expected `iss` (discovery at <issuer>/.well-known/openid-configuration)"),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional().describe("Accepted `aud` value(s)"),
    cognito: z
      .object({
        region: z.string().min(1),
        userPoolId: z.string().min(1),
        clientId: z.string().min(1),
        tokenUse: z.enum(["id", "access"]).default("id"),
      })
      .strict()
      .optional()
      .describe("Amazon Cognito user pool (issuer and audience derived; `token_use` checked)"),
    allowedAlgorithms: z.array(z.enum(ASYMMETRIC)).min(1).default(["RS256", "ES256"]),
    clockSkewSeconds: z.coerce.number().int().min(0).max(600).default(60),
    discoveryUrl: z.url().optional().describe("Discovery document URL, when not under the issuer"),
  })
  .strict()
  .refine((oidc) => (oidc.cognito !== undefined) !== (oidc.issuer !== undefined), { message: "auth.oidc needs exactly one of issuer (+ audience) or cognito" })
  .refine((oidc) => oidc.cognito !== undefined || oidc.audience !== undefined, { message: "auth.oidc.audience is required with issuer", path: ["audience"] });

/** AWS ALB `x-amzn-oidc-data`, accepted only when the TCP peer is inside `trustedProxyCidrs`. */
export const albAuthSchema = z
  .object({
    region: z.string().min(1),
    albArn: z.string().min(1).describe("ARN of the load balancer (the header's `signer`)"),
    clientId: z.string().min(1).describe("App client id of the ALB authenticate action (the header's `client`)"),
    issuer: z.string().min(1).describe("Issuer of the ALB authenticate action (the header's `iss`)"),
    trustedProxyCidrs: z.array(z.string().min(1)).min(1).describe("CIDRs the ALB connects from; the header is ignored from anywhere else"),
    keyBaseUrl: z.url().optional().describe("Key endpoint (default https://public-keys.auth.elb.<region>.amazonaws.com)"),
    clockSkewSeconds: z.coerce.number().int().min(0).max(600).default(60),
  })
  .strict();

/** Browser login: OIDC authorization code + PKCE, then a server-side session cookie. */
export const browserLoginSchema = z
  .object({
    issuer: z.string().min(1).describe("The OIDC issuer users log in at (discovery under it)"),
    clientId: z.string().min(1),
    clientSecretEnv: z.string().min(1).optional().describe("Environment variable holding the client secret (public client with PKCE when absent)"),
    scopes: z.array(z.string().min(1)).default(["openid", "email", "profile"]),
    sessionTtlMs: z.coerce.number().int().min(60_000).default(8 * 3_600_000).describe("Absolute session lifetime"),
    cookieName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("cf_session"),
  })
  .strict();

/** How identity-provider claims become platform roles and tenant memberships (applied at every login). */
export const roleMappingSchema = z
  .object({
    groupsClaim: z.string().min(1).default("groups").describe("Claim holding the user's groups, e.g. cognito:groups"),
    platformRoles: z
      .record(z.string(), z.enum(["admin", "approver", "auditor"]))
      .default({})
      .describe("Group name → platform role"),
    tenantGroupPattern: z
      .string()
      .min(1)
      .optional()
      .describe("Regex with named groups `tenant` and `role` over group names, e.g. ^tenant-(?<tenant>[a-z0-9-]+)-(?<role>owner|member|viewer)$"),
  })
  .strict();

/** The whole `auth` section. */
export const authSchema = z
  .object({
    publicOrigin: z.url().optional().describe("Origin browsers use (https://clawfleet.example.com); CSRF Origin checks, cookie Secure flag, redirect URI, runtimes' controlUi.allowedOrigins"),
    oidc: oidcAuthSchema.optional(),
    alb: albAuthSchema.optional(),
    browserLogin: browserLoginSchema.optional(),
    roleMapping: roleMappingSchema.prefault({}),
    runtimeAuthMode: z
      .enum(["auto", "token", "trusted-proxy"])
      .default("auto")
      .describe("How runtimes authenticate the ingress: auto = trusted-proxy when sandboxed (only Clawfleet can reach them), token otherwise"),
    allowInsecureCookies: flag.default(false).describe("Allow a session cookie without Secure when publicOrigin is http (local development only)"),
  })
  .strict()
  .refine((auth) => auth.browserLogin === undefined || auth.publicOrigin !== undefined, { message: "auth.browserLogin needs auth.publicOrigin", path: ["publicOrigin"] });

export type AuthConfig = z.infer<typeof authSchema>;
