// Copies the runtime assets that are not produced by Tailwind into
// courseplatform/static/dist/: htmx and the Inter font files that src/fonts.css
// references. No dependencies beyond Node itself (>= 20).
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const frontendDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const modulesDir = join(frontendDir, "node_modules");
const distDir = resolve(frontendDir, "..", "courseplatform", "static", "dist");
const fontsDir = join(distDir, "fonts");

function copy(from, to) {
  try {
    statSync(from);
  } catch {
    console.error(`copy-assets: missing ${relative(frontendDir, from)} (did you run "npm ci"?)`);
    process.exit(1);
  }
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  console.log(`copy-assets: ${relative(frontendDir, from)} -> ${relative(frontendDir, to)}`);
}

// htmx 2.0.x, minified. Loaded with <script defer> by templates/base.html.
copy(join(modulesDir, "htmx.org", "dist", "htmx.min.js"), join(distDir, "htmx.min.js"));

// Every font file named by src/fonts.css as url(./fonts/<name>.woff2); the CSS ends up
// in dist/app.css, so ./fonts/ resolves to dist/fonts/.
const fontSource = join(modulesDir, "@fontsource-variable", "inter");
const fontsCss = readFileSync(join(frontendDir, "src", "fonts.css"), "utf8");
const names = [...new Set([...fontsCss.matchAll(/url\(\s*["']?\.\/fonts\/([\w.-]+\.woff2)["']?\s*\)/g)].map((m) => m[1]))];
if (names.length === 0) {
  console.error("copy-assets: src/fonts.css references no ./fonts/ files");
  process.exit(1);
}
for (const name of names) {
  copy(join(fontSource, "files", name), join(fontsDir, name));
}
// The SIL Open Font License asks that the licence travel with the fonts.
copy(join(fontSource, "LICENSE"), join(fontsDir, "LICENSE.txt"));

console.log(`copy-assets: done (${names.length} font files, htmx)`);
