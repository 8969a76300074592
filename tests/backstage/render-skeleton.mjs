// Renders the Template's skeleton the way the scaffolder's fetch:template step does: with nunjitsu, the
// template engine @backstage/plugin-scaffolder-common ships, and ${{ }} delimiters.
// Usage: node render-skeleton.mjs SKELETON_DIR OUT_DIR VALUES_JSON
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.resolve("@backstage/plugin-scaffolder-common"));
const { createTemplateRenderer } = require("nunjitsu");

const [skeleton, out, valuesJson] = process.argv.slice(2);
const values = JSON.parse(valuesJson);
const renderer = createTemplateRenderer();
mkdirSync(out, { recursive: true });
for (const name of readdirSync(skeleton)) {
  const text = readFileSync(join(skeleton, name), "utf8");
  writeFileSync(join(out, name), renderer.render(text, { values }));
}
