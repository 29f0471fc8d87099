// Charts for management pages (instructor analytics, operator console): Chart.js,
// bundled by esbuild into courseplatform/static/dist/charts.js (npm run build:charts)
// and loaded with <script defer>. No CDN, no inline script: the CSP stays strict.
//
// Markup contract (templates/partials/chart.html emits both halves; see README
// "Charts"):
//
//   <div class="relative h-64"><canvas data-chart="DATA_ID" role="img" aria-label="…"></canvas></div>
//   <script type="application/json" id="DATA_ID">{ …spec… }</script>
//
// The spec is data, never code (json_script escapes it):
//   type        "line" | "bar" | "doughnut"
//   labels      ["2026-12-01", …]                       x-axis categories
//   series      [{"label": "Enrolments", "data": [3, 5, …]}, …]
//   horizontal  true: bars run left to right (long category names, e.g. lessons)
//   stacked     true: bars / areas stacked
//   percent     true: values are 0..100, the value axis shows "%"
//   y_label     title of the value axis (optional)
//   x_label     title of the category axis (optional)
//
// Language and direction come from the page too (<html lang dir>, set by base.html):
// numbers are formatted with Intl in the page language (Chart.js' `locale`), ISO dates
// among the labels ("2026-12-01") are shown as localised short dates, and in a
// right-to-left page the category axis runs from the right, the value axis sits on the
// right and legends/tooltips are laid out right to left (Chart.js `rtl`). The spec
// itself (and so the CSV and the tests reading it) keeps the ISO dates and plain numbers.
//
// Colours come from the page: the first series uses the school's brand colour
// (--color-brand, set by the theme), the others a fixed palette. Each canvas gets
// data-chart-ready="1" once drawn (the browser tests wait for it), or
// data-chart-error="…" when its spec is missing or malformed.
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function pageLocale() {
  const lang = document.documentElement.lang || "en";
  try {
    return Intl.getCanonicalLocales(lang)[0] || "en";
  } catch {
    return "en";
  }
}

function isRtl() {
  return (document.documentElement.dir || getComputedStyle(document.documentElement).direction) === "rtl";
}

function dayLabels(labels, locale) {
  // Only when every label is an ISO day: lesson and course names stay as they are.
  if (!labels.length || !labels.every((label) => ISO_DAY.test(String(label)))) return labels.map(String);
  // The year too when the labels span two years (a year-long range repeats a month).
  const years = new Set(labels.map((label) => String(label).slice(0, 4)));
  const options = { day: "numeric", month: "short", timeZone: "UTC" };
  if (years.size > 1) options.year = "2-digit";
  const format = new Intl.DateTimeFormat(locale, options);
  return labels.map((label) => format.format(new Date(`${label}T00:00:00Z`)));
}

const PALETTE = ["#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b"];
const TYPES = ["line", "bar", "doughnut"];

function brandColour() {
  const value = getComputedStyle(document.documentElement).getPropertyValue("--color-brand").trim();
  // The variable may itself be var(--school-primary, #hex): resolve it through a probe.
  if (!value || value.startsWith("var(")) {
    const probe = document.createElement("span");
    probe.className = "text-brand hidden";
    document.body.appendChild(probe);
    const colour = getComputedStyle(probe).color;
    probe.remove();
    return colour || "#4f46e5";
  }
  return value;
}

function withAlpha(colour, alpha) {
  // #rrggbb -> rgba(); rgb(...) -> rgba(...); anything else unchanged.
  const hex = /^#([0-9a-f]{6})$/i.exec(colour);
  if (hex) {
    const n = parseInt(hex[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/.exec(colour);
  if (rgb) {
    const parts = rgb[1].split(/[ ,/]+/).filter(Boolean).slice(0, 3);
    return `rgba(${parts.join(", ")}, ${alpha})`;
  }
  return colour;
}

function readSpec(canvas) {
  const id = canvas.getAttribute("data-chart");
  const node = id ? document.getElementById(id) : null;
  if (!node || node.tagName !== "SCRIPT" || node.type !== "application/json") {
    throw new Error(`no <script type="application/json" id="${id}">`);
  }
  const spec = JSON.parse(node.textContent || "{}");
  if (!TYPES.includes(spec.type)) throw new Error(`unknown chart type ${JSON.stringify(spec.type)}`);
  if (!Array.isArray(spec.labels) || !Array.isArray(spec.series)) throw new Error("labels and series must be lists");
  return spec;
}

function config(spec) {
  const locale = pageLocale();
  const rtl = isRtl();
  const percentFormat = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const asPercent = (value) => percentFormat.format(Number(value) / 100);
  const brand = brandColour();
  const colours = [brand, ...PALETTE];
  const percent = Boolean(spec.percent);
  const doughnut = spec.type === "doughnut";
  const datasets = spec.series.map((series, index) => {
    const colour = colours[index % colours.length];
    const dataset = {
      label: String(series.label ?? ""),
      data: (series.data || []).map((v) => (v === null || v === undefined ? null : Number(v))),
    };
    if (doughnut) {
      dataset.backgroundColor = spec.labels.map((_, i) => colours[i % colours.length]);
    } else if (spec.type === "line") {
      Object.assign(dataset, {
        borderColor: colour,
        backgroundColor: withAlpha(colour, 0.12),
        fill: spec.series.length === 1 || Boolean(spec.stacked),
        tension: 0.25,
        pointRadius: spec.labels.length > 45 ? 0 : 2.5,
        borderWidth: 2,
      });
    } else {
      Object.assign(dataset, {
        backgroundColor: withAlpha(colour, 0.85),
        borderRadius: 4,
        maxBarThickness: 36,
      });
    }
    return dataset;
  });
  const valueAxis = {
    beginAtZero: true,
    stacked: Boolean(spec.stacked),
    ticks: percent ? { precision: 0, callback: asPercent } : { precision: 0 },
    title: { display: Boolean(spec.y_label), text: spec.y_label || "" },
    grid: { color: "rgba(148, 163, 184, 0.25)" },
  };
  if (percent) valueAxis.max = 100;
  const categoryAxis = {
    stacked: Boolean(spec.stacked),
    ticks: { autoSkip: true, maxRotation: 0, autoSkipPadding: 12 },
    title: { display: Boolean(spec.x_label), text: spec.x_label || "" },
    grid: { display: false },
  };
  const horizontal = Boolean(spec.horizontal) && spec.type === "bar";
  if (rtl) {
    // Mirror the chart: time and categories run from the right, values grow leftwards
    // (horizontal bars), and the value axis of an upright chart sits on the right.
    if (horizontal) valueAxis.reverse = true;
    else {
      categoryAxis.reverse = true;
      valueAxis.position = "right";
    }
    if (horizontal) categoryAxis.position = "right";
  }
  return {
    type: spec.type,
    data: { labels: dayLabels(spec.labels, locale), datasets },
    options: {
      locale,
      responsive: true,
      maintainAspectRatio: false,
      animation: false, // drawn once, at once: nothing moves for screenshots or reduced motion
      indexAxis: horizontal ? "y" : "x",
      interaction: { mode: doughnut ? "nearest" : "index", intersect: false },
      plugins: {
        legend: { display: doughnut || spec.series.length > 1, position: "bottom", rtl, textDirection: rtl ? "rtl" : "ltr" },
        tooltip: {
          rtl,
          textDirection: rtl ? "rtl" : "ltr",
          callbacks: percent ? { label: (ctx) => `${ctx.dataset.label}: ${asPercent(ctx.raw)}` } : {},
        },
      },
      scales: doughnut ? {} : horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
    },
  };
}

function draw(canvas) {
  if (canvas.chart) return;
  try {
    canvas.chart = new Chart(canvas, config(readSpec(canvas)));
    canvas.setAttribute("data-chart-ready", "1");
  } catch (error) {
    canvas.setAttribute("data-chart-error", String(error.message || error));
  }
}

function start(root) {
  (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => start());
else start();
// Pages that swap fragments with htmx get their new charts drawn too.
document.addEventListener("htmx:afterSettle", (event) => start(event.target));
