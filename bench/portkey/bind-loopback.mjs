// Preloaded into Portkey's gateway for the benchmark: every server it starts listens on 127.0.0.1 only
// (its @hono/node-server `serve()` would otherwise listen on all interfaces).
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === "number") return listen.call(this, args[0], "127.0.0.1", ...args.slice(1).filter((argument) => typeof argument === "function"));
  if (typeof args[0] === "object" && args[0] !== null) return listen.call(this, { ...args[0], host: "127.0.0.1" }, ...args.slice(1));
  return listen.apply(this, args);
};
