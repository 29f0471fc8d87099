// Copies the runtime assets that are not produced by Tailwind into
// courseplatform/static/dist/: htmx, SortableJS, our src/js/*.js and the Inter font
// files that src/fonts.css references. No dependencies beyond Node itself (>= 20).
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
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

// SortableJS (drag-and-drop of the course outline) and our own outline.js, loaded with
// <script defer> by the course editor (courses/manage/course_edit.html).
copy(join(modulesDir, "sortablejs", "Sortable.min.js"), join(distDir, "Sortable.min.js"));
copy(join(frontendDir, "src", "js", "outline.js"), join(distDir, "outline.js"));

// hls.js (adaptive HLS playback) and our video player, loaded with <script defer> by
// video/partials/player.html. player.js is a plain script: no bundling needed.
copy(join(modulesDir, "hls.js", "dist", "hls.min.js"), join(distDir, "hls.min.js"));
copy(join(frontendDir, "src", "js", "player.js"), join(distDir, "player.js"));

// Every font file named by src/fonts.css as url(./fonts/<name>.woff2); the CSS ends up
// in dist/app.css, so ./fonts/ resolves to dist/fonts/. A file comes from the
// @fontsource-variable package its name starts with (Inter, and Noto Sans Arabic for
// Arabic text).
const fontPackages = ["inter", "noto-sans-arabic"];
const fontsCss = readFileSync(join(frontendDir, "src", "fonts.css"), "utf8");
const names = [...new Set([...fontsCss.matchAll(/url\(\s*["']?\.\/fonts\/([\w.-]+\.woff2)["']?\s*\)/g)].map((m) => m[1]))];
if (names.length === 0) {
  console.error("copy-assets: src/fonts.css references no ./fonts/ files");
  process.exit(1);
}
for (const name of names) {
  const pkg = fontPackages.find((p) => name.startsWith(`${p}-`));
  if (!pkg) {
    console.error(`copy-assets: no package in fontPackages provides ${name}`);
    process.exit(1);
  }
  copy(join(modulesDir, "@fontsource-variable", pkg, "files", name), join(fontsDir, name));
}
// The SIL Open Font License asks that the licence travel with the fonts.
copy(join(modulesDir, "@fontsource-variable", "inter", "LICENSE"), join(fontsDir, "LICENSE.txt"));
copy(
  join(modulesDir, "@fontsource-variable", "noto-sans-arabic", "LICENSE"),
  join(fontsDir, "LICENSE-noto-sans-arabic.txt"),
);

// The theme fonts a school can choose (sites/theming.py FONTS): for each package, one
// stylesheet dist/fonts/<key>.css (its upright and italic @font-face rules, pointing at
// files next to it) plus the .woff2 files it names. School pages link only the sheets
// of their theme's fonts; browsers fetch only the unicode ranges a page uses.
const themeFonts = {
  "source-sans-3": "source-sans-3",
  montserrat: "montserrat",
  lora: "lora",
  merriweather: "merriweather",
  "jetbrains-mono": "jetbrains-mono",
};
let themeFontFiles = 0;
for (const [key, pkg] of Object.entries(themeFonts)) {
  const source = join(modulesDir, "@fontsource-variable", pkg);
  let css = "";
  for (const sheet of ["wght.css", "wght-italic.css"]) {
    try {
      css += readFileSync(join(source, sheet), "utf8") + "\n";
    } catch {
      console.error(`copy-assets: missing @fontsource-variable/${pkg}/${sheet} (did you run "npm ci"?)`);
      process.exit(1);
    }
  }
  const files = [...new Set([...css.matchAll(/url\(\s*["']?\.\/files\/([\w.-]+\.woff2)["']?\s*\)/g)].map((m) => m[1]))];
  for (const name of files) {
    copy(join(source, "files", name), join(fontsDir, name));
  }
  themeFontFiles += files.length;
  mkdirSync(fontsDir, { recursive: true });
  writeFileSync(join(fontsDir, `${key}.css`), css.replaceAll("url(./files/", "url(./"));
  copy(join(source, "LICENSE"), join(fontsDir, `LICENSE-${key}.txt`));
}

// The theme editor's live preview (sites/manage/theme.html).
copy(join(frontendDir, "src", "js", "theme-preview.js"), join(distDir, "theme-preview.js"));
// Copy buttons of the Domains page (domains/manage/domains.html): a plain script.
copy(join(frontendDir, "src", "js", "copy-buttons.js"), join(distDir, "copy-buttons.js"));

console.log(`copy-assets: done (${names.length} font files, htmx, Sortable, outline.js)`);
console.log(`copy-assets: theme fonts ${Object.keys(themeFonts).join(", ")} (${themeFontFiles} files)`);
