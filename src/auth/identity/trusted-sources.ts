/**
 * Which TCP peers may present an AWS ALB `x-amzn-oidc-data` header: the configured CIDRs, matched with Node's
 * `net.BlockList`. IPv4-mapped IPv6 peers (`::ffff:10.0.0.5`) are matched as IPv4.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";
import { ClawfleetError } from "../../contracts/errors.js";

/** A set of trusted CIDRs. */
export interface TrustedSources {
  /** True when `address` (a socket's remote address) is inside one of the CIDRs. */
  has(address: string | undefined): boolean;
}

/**
 * Parses CIDRs like `10.0.0.0/16`, `2001:db8::/32` or single addresses.
 * @throws ClawfleetError CF_CONFIG_INVALID for anything else.
 */
export function createTrustedSources(cidrs: readonly string[]): TrustedSources {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = "", prefixText] = cidr.split("/");
    const type = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : null;
    const prefix = prefixText === undefined ? (type === "ipv4" ? 32 : 128) : Number(prefixText);
    if (type === null || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === "ipv4" ? 32 : 128) || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
      throw new ClawfleetError("CF_CONFIG_INVALID", `auth.alb.trustedProxyCidrs: ${JSON.stringify(cidr)} is not a CIDR`);
    }
    list.addSubnet(address, prefix, type);
  }
  return {
    has(address) {
      if (address === undefined) return false;
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
      if (mapped !== undefined) return list.check(mapped, "ipv4");
      if (isIPv4(address)) return list.check(address, "ipv4");
      return isIPv6(address) && list.check(address, "ipv6");
    },
  };
}
