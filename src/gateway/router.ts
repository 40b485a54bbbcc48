/**
 * Model routing: which provider serves a requested model id. A configured alias (e.g. `default`) maps to one
 * provider's model; a model id a provider lists is served by that provider under its own name.
 */
import { ClawfleetError } from "../contracts/errors.js";
import type { ModelRouteConfig, ProviderConfig } from "../config/schema.js";

/** Where one request goes: the provider id and the model id to send upstream. */
export interface ResolvedRoute {
  providerId: string;
  upstreamModel: string;
  /** True when the caller's `model` is sent upstream as it is (the body can pass through untouched). */
  modelUnchanged: boolean;
}

/** An entry of `/v1/models`. */
export interface OfferedModel {
  id: string;
  ownedBy: string;
}

export class ModelRouter {
  private readonly aliases: Map<string, ModelRouteConfig>;
  private readonly directModels: Map<string, string>;

  constructor(routes: ModelRouteConfig[], providers: ProviderConfig[]) {
    this.aliases = new Map(routes.map((route) => [route.alias, route]));
    this.directModels = new Map();
    for (const provider of providers) {
      for (const model of provider.models) if (!this.directModels.has(model)) this.directModels.set(model, provider.id);
    }
  }

  /**
   * Resolves a requested model id.
   * @throws ClawfleetError CF_MODEL_NOT_FOUND when neither an alias nor a provider model matches.
   */
  resolve(requested: string): ResolvedRoute {
    const alias = this.aliases.get(requested);
    if (alias) return { providerId: alias.provider, upstreamModel: alias.model, modelUnchanged: alias.model === requested };
    const providerId = this.directModels.get(requested);
    if (providerId) return { providerId, upstreamModel: requested, modelUnchanged: true };
    throw new ClawfleetError("CF_MODEL_NOT_FOUND", `model "${requested}" is not offered by this gateway (see GET /v1/models)`, {
      details: { model: requested },
    });
  }

  /** Aliases first (in config order), then provider models not shadowed by an alias. */
  offeredModels(): OfferedModel[] {
    const offered: OfferedModel[] = [...this.aliases.values()].map((route) => ({ id: route.alias, ownedBy: "clawfleet" }));
    for (const [model, providerId] of this.directModels) if (!this.aliases.has(model)) offered.push({ id: model, ownedBy: providerId });
    return offered;
  }

  /** Model ids a tenant runtime is configured with (its primary first). */
  runtimeModelIds(): string[] {
    return [...this.aliases.keys()];
  }
}
