// Which URLs a completion callback may name: only listed origins, exactly or by subdomain, over the scheme
// listed; never credentials in the URL; and a list entry that is not an origin is refused by name.
import { describe, expect, it } from "vitest";
import { CallbackAllowlist } from "../../src/callbacks/index.js";

describe("CallbackAllowlist", () => {
  const allow = new CallbackAllowlist(["https://hooks.example.com", "https://*.shop.example", "http://127.0.0.1:8080"]);

  it.each([
    "https://hooks.example.com/done",
    "https://hooks.example.com:443/done?x=1",
    "https://a.shop.example/cb",
    "https://b.a.shop.example/cb",
    "http://127.0.0.1:8080/cb",
  ])("allows %s", (url) => {
    expect(allow.problem(url)).toBeUndefined();
  });

  it.each([
    ["http://hooks.example.com/done", "http://hooks.example.com is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)"],
    ["https://hooks.example.com.evil.test/", "https://hooks.example.com.evil.test is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)"],
    ["https://shop.example/cb", "https://shop.example is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)"],
    ["https://evilshop.example/cb", "https://evilshop.example is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)"],
    ["http://127.0.0.1:8081/cb", "http://127.0.0.1:8081 is not an allowed callback origin (FLOWGATE_CALLBACK_ALLOW)"],
    ["https://user:pw@hooks.example.com/", "must not carry credentials in the URL"],
    ["ftp://hooks.example.com/", '"ftp://hooks.example.com/" is not an http(s) URL'],
    ["not a url", '"not a url" is not an http(s) URL'],
  ])("refuses %s", (url, problem) => {
    expect(allow.problem(url)).toBe(problem);
  });

  it("is off when empty, and says so", () => {
    const none = new CallbackAllowlist([]);
    expect(none.enabled).toBe(false);
    expect(none.problem("https://hooks.example.com/")).toMatch(/callbacks are off/);
  });

  it.each(["hooks.example.com", "https://hooks.example.com/path", "https://*.", "*://x.example"])("refuses the entry %s, naming it", (entry) => {
    expect(() => new CallbackAllowlist([entry])).toThrow(`"${entry}" is not an origin`);
  });
});
