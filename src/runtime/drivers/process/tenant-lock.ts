/**
 * Serializes async tasks per tenant: a task starts after every earlier task of the same tenant has settled
 * (resolved or rejected); tasks of different tenants run concurrently. Used by the process driver (start, stop,
 * destroy, provision never interleave) and by the runtime host (launches and kills of one tenant).
 */
export class TenantLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once the tenant's earlier tasks settled; resolves or rejects with `task`'s own outcome. */
  run<T>(tenantId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(tenantId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(tenantId, settled);
    void settled.then(() => {
      if (this.tails.get(tenantId) === settled) this.tails.delete(tenantId);
    });
    return result;
  }
}
