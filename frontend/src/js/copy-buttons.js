// Copy buttons: any <button data-copy="text"> copies its text to the clipboard and says
// so for two seconds. A plain script (no inline JS: the CSP allows only static files).
// gettext() is the global of Django's JavaScript catalog, which base.html loads first.
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    event.preventDefault();
    var label = button.dataset.copyLabel || button.textContent;
    button.dataset.copyLabel = label;
    copy(button.dataset.copy).then(
      function () {
        button.textContent = gettext("Copied");
        button.setAttribute("data-copied", "true");
      },
      function () {
        // The clipboard refused: the person copies by hand ("Ctrl" as printed on keyboards).
        button.textContent = gettext("Press Ctrl+C to copy");
      }
    ).then(function () {
      window.setTimeout(function () {
        button.textContent = label;
        button.removeAttribute("data-copied");
      }, 2000);
    });
  });
})();
