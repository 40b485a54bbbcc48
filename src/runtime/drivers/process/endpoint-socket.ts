/**
 * The platform-side endpoint of a sandboxed runtime.
 *
 * The launcher creates its listening socket in `run/<tenant>/gw/`, a directory the tenant can write (it is
 * bound read-write into the sandbox). Connecting there would let the tenant swap `gw.sock` for a symlink to
 * any socket on the host (Docker's, the database's…) and have the platform, as root, talk to it with
 * tenant-chosen bytes. So the driver hard-links the socket inode into `run/<tenant>/gateway.sock`, in a
 * directory only the platform can write, and the platform only ever connects there. `link(2)` does not
 * follow symlinks on Linux, and the result is checked to be a socket.
 */
import { promises as fs } from "node:fs";

/**
 * Links `launcherSocketPath` (must be a real socket) to `endpointSocketPath`, replacing an older link.
 * @returns true when the endpoint now is that socket; false when the launcher's socket does not exist yet
 *   or is not a socket (nothing is linked then)
 */
export async function linkEndpointSocket(launcherSocketPath: string, endpointSocketPath: string): Promise<boolean> {
  const source = await fs.lstat(launcherSocketPath).catch(() => null);
  if (source === null || !source.isSocket()) return false;
  await fs.rm(endpointSocketPath, { force: true });
  try {
    await fs.link(launcherSocketPath, endpointSocketPath);
  } catch {
    return false;
  }
  const linked = await fs.lstat(endpointSocketPath).catch(() => null);
  if (linked !== null && linked.isSocket()) return true;
  await fs.rm(endpointSocketPath, { force: true });
  return false;
}

/** True when `endpointSocketPath` exists and is a socket (not a symlink). */
export async function endpointSocketExists(endpointSocketPath: string): Promise<boolean> {
  const stat = await fs.lstat(endpointSocketPath).catch(() => null);
  return stat !== null && stat.isSocket();
}
