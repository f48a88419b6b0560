// Which URLs a completion callback may name. Flowgate POSTs to them from inside the network it runs in, so
// an arbitrary URL would let any caller make it request internal hosts: only origins the operator lists are
// allowed (FLOWGATE_CALLBACK_ALLOW), exactly ("https://hooks.example.com", a port when not the default) or
// by subdomain ("https://*.example.com": any name under example.com, not example.com itself). The check is
// on the URL as written: names are not resolved, so DNS that points an allowed name inward is not caught.

export class CallbackAllowlist {
  private readonly entries: ReadonlyArray<{ readonly protocol: string; readonly host: string; readonly subdomains: boolean }>;

  /** Throws naming the entry that is not an origin. */
  constructor(readonly origins: readonly string[]) {
    this.entries = origins.map((origin) => {
      const wildcard = /^(https?):\/\/\*\.(.+)$/.exec(origin);
      const parsed = parseUrl(wildcard === null ? origin : `${wildcard[1]}://${wildcard[2]}`);
      const bare = wildcard === null ? origin : `${wildcard[1]}://${wildcard[2]}`;
      if (parsed === undefined || !/^https?:$/.test(parsed.protocol) || parsed.origin !== bare.replace(/\/$/, "") || !/^[a-z0-9.-]+(:\d+)?$/.test(parsed.host)) {
        throw new Error(`"${origin}" is not an origin (scheme://host[:port], or scheme://*.domain)`);
      }
      return { protocol: parsed.protocol, host: parsed.host, subdomains: wildcard !== null };
    });
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** Why `url` may not be called back, or undefined when it may. */
  problem(url: string): string | undefined {
    if (!this.enabled) return "completion callbacks are off on this server (FLOWGATE_CALLBACK_ALLOW is empty)";
    const parsed = parseUrl(url);
    if (parsed === undefined || !/^https?:$/.test(parsed.protocol)) return `"${url}" is not an http(s) URL`;
    if (parsed.username !== "" || parsed.password !== "") return "must not carry credentials in the URL";
    const allowed = this.entries.some(
      (e) => e.protocol === parsed.protocol && (e.subdomains ? parsed.host.endsWith(`.${e.host}`) : parsed.host === e.host),
    );
    return allowed ? undefined : `${parsed.origin} is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)`;
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
