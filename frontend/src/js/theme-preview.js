/*
 * Theme editor live preview (/manage/site/theme/, sites/manage/theme.html).
 *
 * Reads the form's colour, font and button-shape inputs and sets the same CSS custom
 * properties that sites/theming.py theme_css_variables() puts on a school page's :root
 * (--school-primary, --school-on-primary, --school-font-body, --school-radius, ...) on
 * the preview container, so everything inside restyles instantly. Also keeps each
 * colour picker and its hex text field in step, recomputes the WCAG contrast notes
 * (same maths and wording as theming.contrast_warnings, translated via gettext) and shows a chosen logo before
 * it is uploaded. A plain script with no dependencies: a strict CSP allows it because
 * it is a same-origin file, not inline code.
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-theme-form]");
  var preview = document.querySelector("[data-theme-preview]");
  var configNode = document.getElementById("theme-preview-config");
  if (!form || !preview || !configNode) return;
  var config = JSON.parse(configNode.textContent);
  // Django's JavaScript catalog (loaded by base.html first); English without it.
  var gettext = typeof window.gettext === "function" ? window.gettext : function (text) { return text; };
  var interpolate =
    typeof window.interpolate === "function"
      ? window.interpolate
      : function (format, values) {
          return format.replace(/%\((\w+)\)s/g, function (_m, name) { return String(values[name]); });
        };
  // The ratio as theming._ratio shows it: never rounded up onto the limit it is below.
  function ratioText(value, limit) {
    var shown = Math.round(value * 100) / 100;
    if (value < limit && shown >= limit) shown = Math.floor(value * 100) / 100;
    return shown.toFixed(2);
  }
  var HEX = /^#[0-9a-f]{6}$/i;

  // --- colour maths (WCAG 2.x) ---------------------------------------------------------
  function normalize(value) {
    value = (value || "").trim();
    var long = /^#?([0-9a-f]{6})$/i.exec(value);
    if (long) return "#" + long[1].toLowerCase();
    var short = /^#?([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(value);
    if (short) return ("#" + short[1] + short[1] + short[2] + short[2] + short[3] + short[3]).toLowerCase();
    return null;
  }
  function channel(v) {
    var c = v / 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }
  function luminance(hex) {
    var r = parseInt(hex.slice(1, 3), 16);
    var g = parseInt(hex.slice(3, 5), 16);
    var b = parseInt(hex.slice(5, 7), 16);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  }
  function contrast(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function onColour(background) {
    return contrast(background, config.onLight) >= contrast(background, config.onDark)
      ? config.onLight
      : config.onDark;
  }

  // --- reading the form --------------------------------------------------------------
  function field(name) {
    return form.elements.namedItem(name);
  }
  var lastGood = {};
  function colour(name) {
    var input = field(name);
    var value = input ? normalize(input.value) : null;
    if (value) lastGood[name] = value;
    return lastGood[name] || (input ? input.defaultValue : "#000000");
  }
  function selected(name) {
    var input = field(name);
    if (!input) return "";
    if (typeof input.value === "string") return input.value; // select, or RadioNodeList
    return "";
  }

  // --- contrast notes ----------------------------------------------------------------
  var notes = document.querySelector("[data-contrast-warnings]");
  function warnings(primary, background, text) {
    var list = [];
    var ratio = contrast(text, background);
    if (ratio < config.aaText) {
      list.push(
        interpolate(
          gettext(
            "Text on the background has a contrast of %(ratio)s:1; WCAG AA asks for at least %(minimum)s:1, so some visitors will struggle to read it. Darken the text or lighten the background."
          ),
          { ratio: ratioText(ratio, config.aaText), minimum: config.aaText.toFixed(1) },
          true
        )
      );
    }
    ratio = contrast(onColour(primary), primary);
    if (ratio < config.aaText) {
      list.push(
        interpolate(
          gettext(
            "Button text on the primary colour has a contrast of %(ratio)s:1 (below %(minimum)s:1). Choose a darker or lighter primary colour."
          ),
          { ratio: ratioText(ratio, config.aaText), minimum: config.aaText.toFixed(1) },
          true
        )
      );
    }
    ratio = contrast(primary, background);
    if (ratio < config.aaLarge) {
      list.push(
        interpolate(
          gettext(
            "Links and headings in the primary colour have a contrast of %(ratio)s:1 with the background (below %(minimum)s:1) and may be hard to see."
          ),
          { ratio: ratioText(ratio, config.aaLarge), minimum: config.aaLarge.toFixed(1) },
          true
        )
      );
    }
    return list;
  }
  function renderNotes(list) {
    if (!notes) return;
    var wrapper = notes.querySelector("[data-contrast-list]");
    if (!wrapper) return;
    wrapper.textContent = "";
    list.forEach(function (message) {
      var item = document.createElement("li");
      item.textContent = message;
      wrapper.appendChild(item);
    });
    notes.hidden = list.length === 0;
  }

  // --- applying ------------------------------------------------------------------------
  function apply() {
    var primary = colour("primary_color");
    var accent = colour("accent_color");
    var background = colour("background_color");
    var text = colour("text_color");
    var style = preview.style;
    style.setProperty("--school-primary", primary);
    style.setProperty("--school-on-primary", onColour(primary));
    style.setProperty("--school-accent", accent);
    style.setProperty("--school-on-accent", onColour(accent));
    style.setProperty("--school-background", background);
    style.setProperty("--school-text", text);
    var heading = config.fonts[selected("heading_font")];
    var body = config.fonts[selected("body_font")];
    if (heading) style.setProperty("--school-font-heading", heading);
    if (body) style.setProperty("--school-font-body", body);
    var shape = selected("button_shape");
    if (config.radii[shape] !== undefined) {
      style.setProperty("--school-radius", config.radii[shape]);
      style.setProperty("--school-radius-sm", config.radiiSmall[shape]);
    }
    document.querySelectorAll("[data-font-sample]").forEach(function (sample) {
      var stack = config.fonts[selected(sample.getAttribute("data-font-sample"))];
      if (stack) sample.style.fontFamily = stack;
    });
    renderNotes(warnings(primary, background, text));
  }

  // Colour picker <-> hex text field.
  form.querySelectorAll("[data-colour-picker]").forEach(function (picker) {
    var text = field(picker.getAttribute("data-colour-picker"));
    if (!text) return;
    picker.addEventListener("input", function () {
      text.value = picker.value;
      apply();
    });
    text.addEventListener("input", function () {
      var value = normalize(text.value);
      if (value) picker.value = value;
    });
  });

  // A chosen logo shows in the preview header before it is uploaded.
  var logoInput = field("logo");
  var removeLogo = field("remove_logo");
  var logoImage = preview.querySelector("[data-preview-logo]");
  var logoInitial = preview.querySelector("[data-preview-initial]");
  var savedLogo = logoImage ? logoImage.getAttribute("src") || "" : "";
  var objectUrl = null;
  function showLogo(src) {
    if (!logoImage || !logoInitial) return;
    if (src) logoImage.setAttribute("src", src);
    logoImage.hidden = !src;
    logoInitial.hidden = !!src;
  }
  function updateLogo() {
    if (objectUrl) {
      URL.revokeObjectURL(objectUrl);
      objectUrl = null;
    }
    var file = logoInput && logoInput.files && logoInput.files[0];
    if (file && /^image\//.test(file.type)) {
      objectUrl = URL.createObjectURL(file);
      showLogo(objectUrl);
    } else {
      showLogo(removeLogo && removeLogo.checked ? "" : savedLogo);
    }
  }
  if (logoInput) logoInput.addEventListener("change", updateLogo);
  if (removeLogo) removeLogo.addEventListener("change", updateLogo);

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () {
    window.setTimeout(function () {
      form.querySelectorAll("[data-colour-picker]").forEach(function (picker) {
        var text = field(picker.getAttribute("data-colour-picker"));
        var value = text && normalize(text.value);
        if (value) picker.value = value;
      });
      lastGood = {};
      apply();
      updateLogo();
    }, 0);
  });
  preview.setAttribute("data-preview-ready", "true");
  apply();
})();
