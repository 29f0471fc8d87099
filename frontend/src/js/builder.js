// The page builder (/manage/site/pages/<id>/builder/): GrapesJS with the webpage preset,
// our blocks, live "dynamic" blocks and a remote storage adapter that autosaves the draft.
//
// Bundled by esbuild into courseplatform/static/dist/builder.js (npm run build:builder)
// and loaded with <script defer>: the school pages' CSP allows no inline script, so the
// configuration comes from the json_script block #builder-data (see views_builder.py).
//
// What is saved is never trusted: the server sanitises the HTML, CSS and project JSON on
// every save and again on render. Dynamic blocks are stored as empty placeholders
// (<div data-cp-block="catalogue">) and rendered server-side with live data; the canvas
// shows a stand-in preview built here from the same data.
import grapesjs from "grapesjs";
import * as presetWebpageModule from "grapesjs-preset-webpage";
import * as blocksBasicModule from "grapesjs-blocks-basic";
// GrapesJS's own panel texts in our languages (its locale files; pt covers pt-br).
import grapesAr from "grapesjs/locale/ar.mjs";
import grapesDe from "grapesjs/locale/de.mjs";
import grapesEs from "grapesjs/locale/es.mjs";
import grapesPt from "grapesjs/locale/pt.mjs";

// Django's JavaScript catalog (base.html loads /jsi18n/<language>/ before this deferred
// bundle) provides gettext/ngettext/interpolate as globals; without it, English.
const gettext = typeof window.gettext === "function" ? window.gettext : (text) => text;
const ngettext = typeof window.ngettext === "function" ? window.ngettext : (one, many, n) => (n === 1 ? one : many);
const interpolate =
  typeof window.interpolate === "function"
    ? window.interpolate
    : (format, values) => format.replace(/%\((\w+)\)s/g, (_m, name) => String(values[name]));
const GRAPES_LOCALES = { ar: grapesAr, de: grapesDe, es: grapesEs, "pt-br": grapesPt };

// The two plugins are UMD bundles exporting {default: plugin}; in an ES module package
// esbuild hands us module.exports itself, so unwrap whichever shape arrives.
const unwrap = (mod) => {
  let value = mod;
  while (value && typeof value !== "function" && value.default) value = value.default;
  return value;
};
const presetWebpage = unwrap(presetWebpageModule);
const blocksBasic = unwrap(blocksBasicModule);

const AUTOSAVE_DELAY_MS = 1200;

const ICONS = {
  hero: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="2.5" y="4" width="19" height="16" rx="2"/><path d="M7 10h10M9 13.5h6"/><rect x="9.5" y="16" width="5" height="1.6" rx=".8" fill="currentColor"/></svg>',
  text: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><path d="M4 6h16M4 10h16M4 14h10M4 18h13"/></svg>',
  heading: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6"><path d="M6 5v14M18 5v14M6 12h12"/></svg>',
  image: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="3" y="4" width="18" height="16" rx="2"/><circle cx="9" cy="10" r="2"/><path d="m21 16-5-5-9 9"/></svg>',
  columns2: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="3" y="5" width="8" height="14" rx="1.5"/><rect x="13" y="5" width="8" height="14" rx="1.5"/></svg>',
  columns3: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="2.5" y="5" width="5.3" height="14" rx="1.2"/><rect x="9.35" y="5" width="5.3" height="14" rx="1.2"/><rect x="16.2" y="5" width="5.3" height="14" rx="1.2"/></svg>',
  button: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="3" y="8" width="18" height="8" rx="4"/><path d="M8 12h8"/></svg>',
  quote: '<svg viewBox="0 0 24 24" fill="currentColor"><path d="M6 17h3l2-4V7H5v6h3zm8 0h3l2-4V7h-6v6h3z"/></svg>',
  faq: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><circle cx="12" cy="12" r="9"/><path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5v.7M12 17h.01"/></svg>',
  features: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><path d="m5 7 1.5 1.5L9 6M5 13l1.5 1.5L9 12M5 19l1.5 1.5L9 18M12 7.5h8M12 13.5h8M12 19.5h8"/></svg>',
  cta: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="2.5" y="6" width="19" height="12" rx="3"/><path d="M6 11h6M6 13.5h4"/><rect x="14" y="10.5" width="5" height="3" rx="1.5" fill="currentColor"/></svg>',
  catalogue: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="3" y="3" width="7.5" height="7.5" rx="1.5"/><rect x="13.5" y="3" width="7.5" height="7.5" rx="1.5"/><rect x="3" y="13.5" width="7.5" height="7.5" rx="1.5"/><rect x="13.5" y="13.5" width="7.5" height="7.5" rx="1.5"/></svg>',
  course: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><path d="M12 7v14M3 18V4h5a4 4 0 0 1 4 4 4 4 0 0 1 4-4h5v14h-6a3 3 0 0 0-3 3 3 3 0 0 0-3-3z"/></svg>',
  redeem: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><path d="M3 9a3 3 0 0 0 0 6v2a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-2a3 3 0 0 0 0-6V7a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2Z"/><path d="M13 5v2M13 17v2M13 11v2"/></svg>',
  instructor: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/></svg>',
  video: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><rect x="2.5" y="5" width="19" height="14" rx="2"/><path d="m10 9 5 3-5 3z" fill="currentColor"/></svg>',
  embed: '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.5"><path d="m8 8-4 4 4 4M16 8l4 4-4 4M13.5 5l-3 14"/></svg>',
};

const escapeHtml = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// --- blocks --------------------------------------------------------------------------------

const SECTION_BLOCKS = [
  {
    id: "cp-hero",
    label: gettext("Hero"),
    media: ICONS.hero,
    content: `<section class="cp-hero"><div class="cp-container">
  <p class="cp-eyebrow">${escapeHtml(gettext("Welcome"))}</p>
  <h1 class="cp-title">${escapeHtml(gettext("Learn something new today"))}</h1>
  <p class="cp-lead">${escapeHtml(gettext("Describe what students will get from your school in one or two sentences."))}</p>
  <div class="cp-actions"><a class="cp-btn cp-btn--primary" href="/courses/">${escapeHtml(gettext("Browse courses"))}</a><a class="cp-btn cp-btn--secondary" href="/redeem/">${escapeHtml(gettext("Redeem a code"))}</a></div>
</div></section>`,
  },
  {
    id: "cp-hero-bold",
    label: gettext("Hero (bold)"),
    media: ICONS.hero,
    content: `<section class="cp-hero cp-hero--bold"><div class="cp-container">
  <p class="cp-eyebrow">${escapeHtml(gettext("New course"))}</p>
  <h1 class="cp-title">${escapeHtml(gettext("A headline that makes people want to learn"))}</h1>
  <p class="cp-lead">${escapeHtml(gettext("One sentence about the transformation your course offers."))}</p>
  <div class="cp-actions"><a class="cp-btn cp-btn--primary" href="/courses/">${escapeHtml(gettext("Start now"))}</a></div>
</div></section>`,
  },
  {
    id: "cp-text",
    label: gettext("Heading & text"),
    media: ICONS.text,
    content: `<section class="cp-section"><div class="cp-container cp-container--narrow cp-prose">
  <h2 class="cp-heading">${escapeHtml(gettext("A clear heading"))}</h2>
  <p>${escapeHtml(gettext("Write a few sentences here. Select any text to make it bold, italic or a link."))}</p>
</div></section>`,
  },
  {
    id: "cp-columns-2",
    label: gettext("Two columns"),
    media: ICONS.columns2,
    content: `<section class="cp-section"><div class="cp-container cp-columns cp-columns--2">
  <div class="cp-column cp-prose"><h3 class="cp-subheading">${escapeHtml(gettext("First column"))}</h3><p>${escapeHtml(gettext("Text for the first column."))}</p></div>
  <div class="cp-column cp-prose"><h3 class="cp-subheading">${escapeHtml(gettext("Second column"))}</h3><p>${escapeHtml(gettext("Text for the second column."))}</p></div>
</div></section>`,
  },
  {
    id: "cp-columns-3",
    label: gettext("Three columns"),
    media: ICONS.columns3,
    content: `<section class="cp-section"><div class="cp-container cp-columns cp-columns--3">
  <div class="cp-column cp-prose"><h3 class="cp-subheading">${escapeHtml(gettext("One"))}</h3><p>${escapeHtml(gettext("Text for the first column."))}</p></div>
  <div class="cp-column cp-prose"><h3 class="cp-subheading">${escapeHtml(gettext("Two"))}</h3><p>${escapeHtml(gettext("Text for the second column."))}</p></div>
  <div class="cp-column cp-prose"><h3 class="cp-subheading">${escapeHtml(gettext("Three"))}</h3><p>${escapeHtml(gettext("Text for the third column."))}</p></div>
</div></section>`,
  },
  {
    id: "cp-features",
    label: gettext("Feature list"),
    media: ICONS.features,
    content: `<section class="cp-section"><div class="cp-container">
  <div class="cp-section-head"><h2 class="cp-heading">${escapeHtml(gettext("Why learn with us"))}</h2></div>
  <div class="cp-grid cp-grid--3">
    <div class="cp-feature"><div class="cp-feature__icon">▶</div><h3 class="cp-subheading">${escapeHtml(gettext("Learn anywhere"))}</h3><p>${escapeHtml(gettext("Lessons that work on phones, tablets and laptops."))}</p></div>
    <div class="cp-feature"><div class="cp-feature__icon">✓</div><h3 class="cp-subheading">${escapeHtml(gettext("Track progress"))}</h3><p>${escapeHtml(gettext("Pick up exactly where you left off."))}</p></div>
    <div class="cp-feature"><div class="cp-feature__icon">★</div><h3 class="cp-subheading">${escapeHtml(gettext("Expert teachers"))}</h3><p>${escapeHtml(gettext("Courses built by people who know their craft."))}</p></div>
  </div>
</div></section>`,
  },
  {
    id: "cp-testimonials",
    label: gettext("Testimonials"),
    media: ICONS.quote,
    content: `<section class="cp-section cp-section--tint"><div class="cp-container">
  <div class="cp-section-head"><h2 class="cp-heading">${escapeHtml(gettext("What students say"))}</h2></div>
  <div class="cp-grid cp-grid--3">
    <blockquote class="cp-card cp-quote"><p>${escapeHtml(gettext("The best course I have taken. Clear and practical."))}</p><footer><strong>${escapeHtml(gettext("Student name"))}</strong>${escapeHtml(gettext("Their role"))}</footer></blockquote>
    <blockquote class="cp-card cp-quote"><p>${escapeHtml(gettext("Short lessons that fit my schedule. I finished in two weeks."))}</p><footer><strong>${escapeHtml(gettext("Student name"))}</strong>${escapeHtml(gettext("Their role"))}</footer></blockquote>
    <blockquote class="cp-card cp-quote"><p>${escapeHtml(gettext("I finally understand the topic. Highly recommended."))}</p><footer><strong>${escapeHtml(gettext("Student name"))}</strong>${escapeHtml(gettext("Their role"))}</footer></blockquote>
  </div>
</div></section>`,
  },
  {
    id: "cp-faq",
    label: gettext("FAQ"),
    media: ICONS.faq,
    content: `<section class="cp-section"><div class="cp-container cp-container--narrow">
  <h2 class="cp-heading cp-center">${escapeHtml(gettext("Frequently asked questions"))}</h2>
  <div class="cp-faq">
    <details><summary>${escapeHtml(gettext("How do I get access?"))}</summary><p>${escapeHtml(gettext("Redeem the access code you received, or sign up for a free preview."))}</p></details>
    <details><summary>${escapeHtml(gettext("Can I learn on my phone?"))}</summary><p>${escapeHtml(gettext("Yes, every lesson works on phones, tablets and computers."))}</p></details>
    <details><summary>${escapeHtml(gettext("Who is this course for?"))}</summary><p>${escapeHtml(gettext("Describe who benefits most from your courses."))}</p></details>
  </div>
</div></section>`,
  },
  {
    id: "cp-cta",
    label: gettext("Call to action"),
    media: ICONS.cta,
    content: `<section class="cp-section"><div class="cp-container"><div class="cp-cta">
  <div><h2 class="cp-heading">${escapeHtml(gettext("Ready to start?"))}</h2><p>${escapeHtml(gettext("Redeem your access code and begin your first lesson today."))}</p></div>
  <div class="cp-actions"><a class="cp-btn cp-btn--light" href="/redeem/">${escapeHtml(gettext("Redeem a code"))}</a></div>
</div></div></section>`,
  },
];

const ELEMENT_BLOCKS = [
  {
    id: "cp-heading",
    label: gettext("Heading"),
    media: ICONS.heading,
    content: `<h2 class="cp-heading">${escapeHtml(gettext("A clear heading"))}</h2>`,
  },
  {
    id: "cp-paragraph",
    label: gettext("Paragraph"),
    media: ICONS.text,
    content: `<p class="cp-lead">${escapeHtml(gettext("A paragraph of text. Select it to edit."))}</p>`,
  },
  {
    id: "cp-image",
    label: gettext("Image"),
    media: ICONS.image,
    activate: true,
    select: true,
    content: { type: "image", classes: ["cp-image"], attributes: { alt: "" } },
  },
  {
    id: "cp-button",
    label: gettext("Button"),
    media: ICONS.button,
    content: { type: "link", classes: ["cp-btn", "cp-btn--primary"], attributes: { href: "/courses/" }, components: [{ type: "textnode", content: gettext("Browse courses") }] },
  },
];

// Live blocks arrive inside a section and container (so they sit well at the page's top
// level); the placeholder itself is the <div data-cp-block> inside.
const DYNAMIC_BLOCKS = [
  { id: "cp-dyn-catalogue", kind: "catalogue", label: gettext("Course catalogue"), media: ICONS.catalogue, heading: gettext("Our courses") },
  { id: "cp-dyn-course", kind: "course", label: gettext("Course card"), media: ICONS.course, narrow: true },
  { id: "cp-dyn-redeem", kind: "redeem", label: gettext("Redeem a code"), media: ICONS.redeem, narrow: true },
  { id: "cp-dyn-instructor", kind: "instructor", label: gettext("Instructor bio"), media: ICONS.instructor, narrow: true, heading: gettext("Your instructor") },
  { id: "cp-dyn-video", kind: "video", label: gettext("School video"), media: ICONS.video, narrow: true },
  { id: "cp-dyn-embed", kind: "embed", label: gettext("YouTube / Vimeo"), media: ICONS.embed, narrow: true },
];

function dynamicBlockContent(block) {
  const heading = block.heading ? `<h2 class="cp-heading cp-center">${escapeHtml(block.heading)}</h2>` : "";
  const container = block.narrow ? "cp-container cp-container--narrow" : "cp-container";
  return `<section class="cp-section"><div class="${container}">${heading}<div data-cp-block="${block.kind}"></div></div></section>`;
}

const DYNAMIC_LABELS = Object.fromEntries(DYNAMIC_BLOCKS.map((b) => [b.kind, b.label]));

// --- embed links (the server normalises again; this keeps the canvas honest) ---------------

export function normalizeEmbedUrl(value) {
  let url;
  try {
    url = new URL(/^https?:\/\//i.test(value) ? value : `https://${value}`);
  } catch {
    return "";
  }
  const host = url.hostname.toLowerCase();
  let id = "";
  if (["youtube.com", "www.youtube.com", "m.youtube.com", "youtube-nocookie.com", "www.youtube-nocookie.com"].includes(host)) {
    if (url.pathname === "/watch") id = url.searchParams.get("v") || "";
    else if (/^\/(embed|shorts|live)\//.test(url.pathname)) id = url.pathname.split("/")[2];
  } else if (host === "youtu.be") {
    id = url.pathname.slice(1).split("/")[0];
  }
  if (id) return /^[A-Za-z0-9_-]{6,20}$/.test(id) ? `https://www.youtube-nocookie.com/embed/${id}` : "";
  let vimeo = "";
  if (host === "vimeo.com" || host === "www.vimeo.com") vimeo = url.pathname.split("/")[1] || "";
  else if (host === "player.vimeo.com" && url.pathname.startsWith("/video/")) vimeo = url.pathname.split("/")[2];
  return /^[0-9]{1,12}$/.test(vimeo) ? `https://player.vimeo.com/video/${vimeo}` : "";
}

// --- the canvas stand-ins for dynamic blocks ------------------------------------------------
//
// Course titles, people's names, video titles and the school name are server data that
// students and instructors typed: they are only ever inserted as text (text nodes,
// textContent, `new Option(text, value)`), never parsed as HTML, so a name such as
// `<img src=x onerror=…>` stays a name even if the CSP were relaxed.

// h("p", "cp-muted", "text", childElement…): an element whose children are text or nodes.
function h(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  children.forEach((child) => {
    if (child === null || child === undefined || child === false) return;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return node;
}

function courseCard(course) {
  const title = String(course.title ?? "");
  const meta = course.published
    ? interpolate(ngettext("%(count)s lesson", "%(count)s lessons", course.lessons), { count: course.lessons }, true)
    : gettext("Draft: hidden until published");
  return h(
    "div",
    "cp-course-card",
    h("span", "cp-course-card__placeholder", (title.trim() || "?").charAt(0).toUpperCase()),
    h(
      "span",
      "cp-course-card__body",
      h("span", "cp-course-card__title", title),
      course.subtitle ? h("span", "cp-course-card__subtitle", String(course.subtitle)) : null,
      h("span", "cp-course-card__meta", h("span", "", meta), h("span", "cp-course-card__cta", gettext("View course"), " ", h("span", "cp-arrow", "→"))),
    ),
  );
}

function videoPoster(text) {
  return [h("div", "cp-video__poster", h("span", "cp-video__play", h("span", "", "▶"))), h("p", "cp-muted", text)];
}

function preview(kind, attrs, data) {
  const note = (text) => [h("div", "cp-dynamic__note", text)];
  if (kind === "catalogue") {
    const courses = data.courses.filter((c) => c.published);
    if (!courses.length) return note(gettext("Your published courses appear here as a grid. You have none published yet, so visitors see a “coming soon” note."));
    return [h("ul", "cp-course-grid", ...courses.slice(0, 6).map((c) => h("li", "", courseCard(c))))];
  }
  if (kind === "course") {
    const course = data.courses.find((c) => String(c.id) === String(attrs["data-course"]));
    return course ? [h("div", "cp-course-single", courseCard(course))] : note(gettext("Choose a course in the settings panel (gear icon)."));
  }
  if (kind === "redeem") {
    return [
      h(
        "div",
        "cp-redeem",
        h("p", "cp-redeem__title", gettext("Have an access code?")),
        h("p", "cp-redeem__text", interpolate(gettext("Enter it to unlock your course at %(school)s."), { school: data.schoolName }, true)),
        h("div", "cp-redeem__row", h("span", "cp-redeem__input", "XXXX-XXXX-XXXX"), h("span", "cp-btn cp-btn--primary", gettext("Redeem"))),
      ),
    ];
  }
  if (kind === "instructor") {
    const person = data.instructors.find((p) => String(p.id) === String(attrs["data-user"]));
    if (!person) return note(gettext("Choose a person in the settings panel (gear icon)."));
    const name = String(person.name ?? "");
    return [
      h(
        "div",
        "cp-instructor",
        h("span", "cp-instructor__avatar", name.charAt(0).toUpperCase()),
        h(
          "div",
          "",
          h("p", "cp-instructor__name", name),
          h("p", "cp-instructor__role", `${person.role === "owner" ? gettext("Founder") : gettext("Instructor")} · ${data.schoolName}`),
          h("p", "cp-muted cp-instructor__teaches", gettext("Their published courses are listed here.")),
        ),
      ),
    ];
  }
  if (kind === "video") {
    const video = data.videos.find((v) => String(v.id) === String(attrs["data-video"]));
    if (!data.videos.length) return note(gettext("Upload a video in Videos first: only your school’s processed videos can be shown."));
    return videoPoster(video ? String(video.title) : gettext("Choose a video in the settings panel (gear icon)."));
  }
  if (kind === "embed") {
    const url = normalizeEmbedUrl(attrs["data-url"] || "");
    return videoPoster(url || gettext("Paste a YouTube or Vimeo link in the settings panel (gear icon)."));
  }
  return note(gettext("Unknown block"));
}

// GrapesJS's own "select" trait concatenates option labels into markup; this one builds
// the <select> with `new Option(text, value)`, so labels stay text.
const TEXT_SELECT_TRAIT = {
  templateInput() {
    const { ppfx, clsField } = this;
    return `<div class="${clsField} ${ppfx}field-select"><div data-input></div><div class="${ppfx}sel-arrow"><div class="${ppfx}d-s-arrow"></div></div></div>`;
  },
  createInput({ trait }) {
    const select = document.createElement("select");
    (trait.get("options") || []).forEach((option) => select.add(new Option(option.label, option.value)));
    select.value = trait.getValue() ?? "";
    return select;
  },
  onUpdate({ elInput, trait }) {
    elInput.value = trait.getValue() ?? "";
  },
};

function traitsFor(kind, data) {
  const options = (items, label) => [{ value: "", label: gettext("Choose…") }, ...items.map((item) => ({ value: String(item.id), label: String(label(item) ?? "") }))];
  if (kind === "course") return [{ type: "cp-select", name: "data-course", label: gettext("Course"), options: options(data.courses, (c) => (c.published ? c.title : interpolate(gettext("%(title)s (draft)"), { title: c.title }, true))) }];
  if (kind === "instructor") return [{ type: "cp-select", name: "data-user", label: gettext("Person"), options: options(data.instructors, (p) => p.name) }];
  if (kind === "video") return [{ type: "cp-select", name: "data-video", label: gettext("Video"), options: options(data.videos, (v) => v.title) }];
  if (kind === "embed") return [{ type: "text", name: "data-url", label: gettext("YouTube or Vimeo link"), placeholder: "https://www.youtube.com/watch?v=…", changeProp: false }];
  return [];
}

function dynamicBlocksPlugin(data) {
  return (editor) => {
    editor.Traits.addType("cp-select", TEXT_SELECT_TRAIT);
    editor.DomComponents.addType("cp-dynamic", {
      isComponent: (el) => (el && el.tagName === "DIV" && el.getAttribute && el.getAttribute("data-cp-block") ? { type: "cp-dynamic" } : false),
      model: {
        defaults: {
          tagName: "div",
          droppable: false,
          editable: false,
          layerable: true,
          traits: [],
        },
        init() {
          this.refreshTraits();
          this.on("change:attributes", this.refreshTraits);
        },
        kind() {
          return this.getAttributes()["data-cp-block"] || "";
        },
        refreshTraits() {
          const kind = this.kind();
          if (this._traitKind === kind) return;
          this._traitKind = kind;
          this.set("traits", traitsFor(kind, data));
          this.set("name", DYNAMIC_LABELS[kind] || gettext("Live block"));
        },
        // Only the placeholder is saved: the server renders the real content.
        toHTML() {
          const attrs = this.getAttributes();
          const parts = Object.entries(attrs)
            .filter(([name, value]) => name === "id" || (name.startsWith("data-") && value !== ""))
            .map(([name, value]) => `${name}="${escapeHtml(name === "data-url" ? normalizeEmbedUrl(value) : value)}"`);
          return `<div ${parts.join(" ")}></div>`;
        },
      },
      view: {
        init() {
          this.listenTo(this.model, "change:attributes", this.render);
        },
        onRender() {
          const attrs = this.model.getAttributes();
          const kind = attrs["data-cp-block"];
          this.el.classList.add("cp-dynamic");
          this.el.replaceChildren(h("span", "cp-dynamic__badge", interpolate(gettext("%(block)s · live data"), { block: DYNAMIC_LABELS[kind] || gettext("Live block") }, true)), ...preview(kind, attrs, data));
        },
      },
    });

    const bm = editor.BlockManager;
    // Categories by id (our code refers to them) with translated labels.
    const sections = { id: "Sections", label: gettext("Sections") };
    const live = { id: "Live blocks", label: gettext("Live blocks") };
    const elements = { id: "Elements", label: gettext("Elements") };
    SECTION_BLOCKS.forEach((block) => bm.add(block.id, { ...block, category: sections }));
    DYNAMIC_BLOCKS.forEach((block) =>
      bm.add(block.id, {
        label: block.label,
        media: block.media,
        category: live,
        select: true,
        content: dynamicBlockContent(block),
      }),
    );
    ELEMENT_BLOCKS.forEach((block) => bm.add(block.id, { ...block, category: elements }));
  };
}

// --- saving --------------------------------------------------------------------------------

function createStatus(root) {
  const el = root.querySelector("[data-save-status]");
  return (state, text) => {
    if (!el) return;
    el.dataset.state = state;
    el.textContent = text;
  };
}

function showNotice(message) {
  const box = document.querySelector("[data-builder-error]");
  if (!box) return;
  box.textContent = message || "";
  box.hidden = !message;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

function remoteStorage(data, setStatus, getEditor) {
  let pendingCss = null;
  return {
    async load() {
      const response = await fetch(data.urls.draft, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await readJson(response);
      if (!response.ok) throw new Error(body.error || interpolate(gettext("Loading the draft failed (HTTP %(status)s)."), { status: response.status }, true));
      if (body.project && Array.isArray(body.project.pages) && body.project.pages.length) return body.project;
      pendingCss = body.css || "";
      return { pages: [{ component: body.html || "" }] };
    },
    takePendingCss() {
      const css = pendingCss;
      pendingCss = null;
      return css;
    },
    async store(project) {
      const editor = getEditor();
      setStatus("saving", gettext("Saving…"));
      const response = await fetch(data.urls.draft, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": data.csrfToken },
        body: JSON.stringify({ project, html: editor.getHtml(), css: editor.getCss() }),
      });
      const body = await readJson(response);
      if (!response.ok) {
        const error = new Error(body.error || interpolate(gettext("Saving failed (HTTP %(status)s)."), { status: response.status }, true));
        error.status = response.status;
        throw error;
      }
      return body;
    },
  };
}

function copyThemeIntoCanvas(doc) {
  // The school's theme (CSS variables, font stylesheets) as the parent page has it.
  if (!doc || !doc.head || doc.head.querySelector("[data-cp-theme]")) return;
  document.head.querySelectorAll('style, link[rel="stylesheet"]').forEach((node) => {
    if (node.hasAttribute("data-builder-ui")) return;
    const isTheme = node.tagName === "STYLE" ? node.textContent.includes("--school-") : /\/fonts\//.test(node.getAttribute("href") || "");
    if (isTheme) {
      const copy = node.cloneNode(true);
      copy.setAttribute("data-cp-theme", "");
      doc.head.appendChild(copy);
    }
  });
  const base = doc.createElement("style");
  base.setAttribute("data-cp-theme", "");
  base.textContent = "body{background:var(--cp-bg);color:var(--cp-text);font-family:var(--cp-body-font);line-height:1.6}";
  doc.head.appendChild(base);
  // The page is designed in the page's language and direction: an Arabic school's page
  // mirrors in the canvas as it will for visitors (site-blocks.css uses logical properties).
  const outer = document.documentElement;
  doc.documentElement.setAttribute("dir", outer.getAttribute("dir") || "ltr");
  doc.documentElement.setAttribute("lang", outer.getAttribute("lang") || "en");
}

// GrapesJS leaves two WCAG gaps in its own markup: the canvas <iframe> has no title and
// the scrolling side panel cannot be reached with the keyboard. Both are named here.
function labelEditor(editor) {
  const frame = editor.Canvas.getFrameEl();
  if (frame) frame.setAttribute("title", gettext("Page being edited"));
  const panel = document.querySelector(".gjs-pn-views-container");
  if (panel) {
    panel.setAttribute("role", "region");
    panel.setAttribute("aria-label", gettext("Blocks, styles and settings"));
    panel.tabIndex = 0;
  }
}

function start() {
  const root = document.querySelector("[data-builder]");
  const dataEl = document.getElementById("builder-data");
  if (!root || !dataEl) return;
  const data = JSON.parse(dataEl.textContent);
  const setStatus = createStatus(root);
  const publishButton = root.querySelector("[data-publish]");
  const liveLink = root.querySelector("[data-view-live]");
  let editor = null;
  let loaded = false;
  let saving = null;
  let timer = null;
  let failed = false;

  const storage = remoteStorage(data, setStatus, () => editor);

  editor = grapesjs.init({
    container: "#gjs",
    height: "100%",
    width: "auto",
    fromElement: false,
    cssIcons: "", // no Font Awesome from a CDN: the school CSP allows our own origin only
    // GrapesJS's panels in the page's language where it ships a translation (else English).
    i18n: {
      locale: GRAPES_LOCALES[data.language] ? (data.language === "pt-br" ? "pt" : data.language) : "en",
      localeFallback: "en",
      detectLocale: false,
      messages: { ar: grapesAr, de: grapesDe, es: grapesEs, pt: grapesPt },
    },
    storageManager: { type: "cp-remote", autosave: false, autoload: false, stepsBeforeSave: 1 },
    undoManager: { trackSelection: false },
    selectorManager: { componentFirst: true },
    canvas: { styles: data.canvasStyles },
    deviceManager: {
      devices: [
        { id: "desktop", name: gettext("Desktop"), width: "" },
        { id: "tablet", name: gettext("Tablet"), width: "768px", widthMedia: "992px" },
        { id: "mobilePortrait", name: gettext("Mobile portrait"), width: "375px", widthMedia: "480px" },
      ],
    },
    assetManager: {
      assets: data.assets.map((src) => ({ type: "image", src })),
      upload: data.urls.assets,
      uploadName: "files",
      multiUpload: true,
      headers: { "X-CSRFToken": data.csrfToken },
      credentials: "same-origin",
      autoAdd: true,
      embedAsBase64: false,
      showUrlInput: false,
    },
    plugins: [
      (ed) => ed.Storage.add("cp-remote", storage),
      (ed) =>
        ["canvas:frame:load", "canvas:frame:load:body"].forEach((name) =>
          ed.on(name, ({ window: frameWindow }) => copyThemeIntoCanvas(frameWindow && frameWindow.document)),
        ),
      dynamicBlocksPlugin(data), // first, so its block categories come first
      (ed) => blocksBasic(ed, { blocks: ["column1", "column2", "column3", "column3-7", "text", "link"], flexGrid: true, category: { id: "Layout", label: gettext("Layout") } }),
      (ed) =>
        presetWebpage(ed, {
          blocks: ["text-basic", "quote"],
          useCustomTheme: false,
          modalImportTitle: gettext("Import HTML"),
          modalImportLabel: `<p>${escapeHtml(gettext("Paste HTML to replace the page. Scripts, forms, embeds and event handlers are removed when it is saved."))}</p>`,
          modalImportContent: (ed2) => ed2.getHtml(),
          textCleanCanvas: gettext("Remove everything from this page's draft? (The published page is not affected.)"),
        }),
    ],
  });

  const setDirty = () => {
    if (!loaded) return;
    setStatus("dirty", gettext("Unsaved changes"));
    clearTimeout(timer);
    timer = setTimeout(() => save().catch(() => {}), AUTOSAVE_DELAY_MS);
  };

  async function save() {
    clearTimeout(timer);
    if (saving) {
      await saving.catch(() => {});
    }
    if (!editor.getDirtyCount()) {
      if (!failed) setStatus("saved", gettext("Saved"));
      return;
    }
    saving = editor.store();
    try {
      const result = await saving;
      failed = false;
      showNotice("");
      const sizes = result && result.limit ? { size: Math.round(result.size / 1024), limit: Math.round(result.limit / 1024) } : null;
      setStatus("saved", sizes ? interpolate(gettext("Saved · %(size)s of %(limit)s KB"), sizes, true) : gettext("Saved"));
    } catch (error) {
      failed = true;
      const tooBig = error.status === 413;
      setStatus("error", tooBig ? gettext("Not saved: page too large") : gettext("Not saved"));
      showNotice(error.message || gettext("Saving failed. Check your connection; we will retry on your next change."));
      throw error;
    } finally {
      saving = null;
    }
  }

  editor.on("update", setDirty);
  editor.on("storage:error", () => {});
  editor.on("asset:upload:error", (error) => {
    let message = gettext("The image could not be uploaded.");
    try {
      message = JSON.parse(typeof error === "string" ? error : error.message).error || message;
    } catch {
      /* keep the generic message */
    }
    showNotice(message);
  });
  editor.on("asset:upload:response", () => showNotice(""));


  editor.on("load", async () => {
    copyThemeIntoCanvas(editor.Canvas.getDocument());
    labelEditor(editor);
    try {
      await editor.load();
      copyThemeIntoCanvas(editor.Canvas.getDocument()); // loading a project renders a new frame
      labelEditor(editor);
      const css = storage.takePendingCss();
      if (css) editor.setStyle(css);
      editor.UndoManager.clear();
      editor.clearDirtyCount();
      loaded = true;
      setStatus("saved", gettext("Saved"));
      publishButton.disabled = false;
      editor.BlockManager.getCategories().forEach((category) => category.set("open", !["Layout", "Basic"].includes(category.id)));
      editor.runCommand("open-blocks");
    } catch (error) {
      setStatus("error", gettext("Could not load"));
      showNotice(error.message);
    }
  });

  publishButton.addEventListener("click", async () => {
    publishButton.disabled = true;
    try {
      await save();
      setStatus("saving", gettext("Publishing…"));
      const response = await fetch(data.urls.publish, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": data.csrfToken },
      });
      const body = await readJson(response);
      if (!response.ok) throw new Error(body.error || interpolate(gettext("Publishing failed (HTTP %(status)s)."), { status: response.status }, true));
      setStatus("published", interpolate(gettext("Published · revision %(number)s"), { number: body.revision }, true));
      if (liveLink) liveLink.hidden = false;
      showNotice("");
    } catch (error) {
      if (!failed) setStatus("error", gettext("Not published"));
      showNotice(error.message);
    } finally {
      publishButton.disabled = false;
    }
  });

  // "Preview draft" shows what is saved: save pending changes first.
  const previewLink = root.querySelector("[data-preview-draft]");
  if (previewLink) {
    previewLink.addEventListener("click", async (event) => {
      if (!loaded || (!editor.getDirtyCount() && !saving)) return;
      event.preventDefault();
      const tab = window.open("", "_blank");
      try {
        await save();
        if (tab) tab.location.href = previewLink.href;
      } catch {
        if (tab) tab.close();
      }
    });
  }

  window.addEventListener("beforeunload", (event) => {
    if (loaded && (editor.getDirtyCount() || saving)) event.preventDefault();
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      save().catch(() => {});
    }
  });

  // For people and tests who want to drive it: the editor and our two actions.
  window.cpBuilder = { editor, save, publish: () => publishButton.click() };
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
