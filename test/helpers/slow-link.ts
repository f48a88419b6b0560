// A slow network between Flowgate and Temporal (or between a client and Flowgate): a TCP relay that delivers
// every chunk, in order, `delayMs` after it arrived, in both directions, and can drop the connections it holds. Races between Flowgate's calls and what Temporal's workers do in
// the meantime then happen every time instead of once in a while.
import net from "node:net";

export interface SlowLink {
  /** 127.0.0.1:port */
  readonly address: string;
  /** Drops the connections open now, as a network that fails would; new ones are still relayed. */
  cut(): void;
  close(): Promise<void>;
}

export async function startSlowLink(upstream: string, delayMs: number): Promise<SlowLink> {
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(":")), Number(upstream.slice(upstream.lastIndexOf(":") + 1))];
  const sockets = new Set<net.Socket>();
  /** Writes each chunk `delayMs` after it was read; timers of equal delay fire in order. */
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on("data", (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
    from.on("end", () => setTimeout(() => to.end(), delayMs));
    from.on("error", () => to.destroy());
    from.on("close", () => setTimeout(() => to.destroy(), delayMs));
  };
  const server = net.createServer((client) => {
    const target = net.connect(port, host);
    for (const s of [client, target]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
    }
    relay(client, target);
    relay(target, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
