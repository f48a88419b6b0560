import net from "node:net";

/** Fails fast, with a message naming the setting, when a port Flowgate needs is taken. */
export async function assertPortFree(host: string, port: number, setting: string, hint: string): Promise<void> {
  if (port === 0) return; // any free port
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(new PortTakenError(`port ${port} on ${host} is taken (${err.code}). ${hint} Set ${setting} to another port.`)),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export class PortTakenError extends Error {
  override name = "PortTakenError";
}
