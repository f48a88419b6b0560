// `npm run docs:config`: rewrites the README's configuration section from the table in src/config.ts.
// test/unit/config.test.ts fails when the two disagree.
import { readFileSync, writeFileSync } from "node:fs";
import { renderConfigurationDocs } from "../src/config.js";

const README = new URL("../README.md", import.meta.url);
const readme = readFileSync(README, "utf8");
const pattern = /(<!-- configuration:begin -->\n)[\s\S]*?(<!-- configuration:end -->)/;
if (!pattern.test(readme)) throw new Error("README.md has no <!-- configuration:begin --> ... <!-- configuration:end --> section");
writeFileSync(README, readme.replace(pattern, (_all, begin: string, end: string) => begin + renderConfigurationDocs() + "\n" + end));
console.log("README.md: configuration section updated");
