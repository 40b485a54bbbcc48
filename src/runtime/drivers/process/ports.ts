/**
 * Free loopback TCP ports for the unsandboxed fallback (gateway ports and model channel ports).
 */
import net from "node:net";

/**
 * Asks the kernel for a currently free port on 127.0.0.1 (bind to port 0, read it, close).
 * The port can in principle be taken by someone else before it is used; callers bind it soon after.
 * @returns a port number in 1..65535
 * @throws the listen error when no port can be bound
 */
export function allocateLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not read the allocated port"))));
    });
  });
}
