/*
 * Course authoring: drag-and-drop for the course outline, plus the small status
 * line and focus handling of the htmx-driven authoring forms.
 *
 * Copied as-is to courseplatform/static/dist/outline.js (no bundler, no inline
 * script: the pages load it with <script defer>, after htmx and Sortable.min.js).
 *
 * Markup contract (templates/courses/manage/_outline.html):
 *   [data-outline]                   the outline root (#outline), data-outline-url = GET partial
 *   [data-sortable="sections"]       the list of sections, data-reorder-url
 *   [data-sortable="lessons"]        one list per section, data-reorder-url, data-group
 *   [data-id]                        a sortable item; [data-placeholder] an "empty" row
 *   .section-handle / .lesson-handle drag handles (shown only once this script runs)
 *   #authoring-status                aria-live status line ("Saved" / "Could not save")
 *   [data-return-focus="#sel"]       after an htmx swap, focus goes there if it was lost
 * The server answers htmx requests with HX-Trigger {"authoringStatus": "..."} (already
 * in the page's language), plus "authoringFailed" when the action was refused.
 * Strings of this script go through Django's JavaScript catalog (base.html loads it
 * first); the fallbacks keep the editor usable if the catalog did not load.
 */
(function () {
  "use strict";

  var gettext =
    window.gettext ||
    function (text) {
      return text;
    };
  var interpolate =
    window.interpolate ||
    function (format, values) {
      return format.replace(/%\((\w+)\)s/g, function (all, name) {
        return String(values[name]);
      });
    };

  var clearTimer = null;

  function setStatus(text, state) {
    var el = document.getElementById("authoring-status");
    if (!el) return;
    el.textContent = text;
    el.setAttribute("data-state", state || "");
    window.clearTimeout(clearTimer);
    if (state === "ok") {
      clearTimer = window.setTimeout(function () {
        el.textContent = "";
        el.setAttribute("data-state", "");
      }, 5000);
    }
  }

  function csrfToken() {
    var raw = document.body && document.body.getAttribute("hx-headers");
    if (raw) {
      try {
        var headers = JSON.parse(raw);
        if (headers && headers["X-CSRFToken"]) return headers["X-CSRFToken"];
      } catch (e) {
        /* fall through to the cookie */
      }
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function idsOf(list) {
    var ids = [];
    for (var i = 0; i < list.children.length; i++) {
      var id = list.children[i].getAttribute("data-id");
      if (id) ids.push(id);
    }
    return ids;
  }

  function togglePlaceholders(outline) {
    var lists = outline.querySelectorAll('[data-sortable="lessons"]');
    for (var i = 0; i < lists.length; i++) {
      var placeholder = lists[i].querySelector("[data-placeholder]");
      if (placeholder) placeholder.hidden = idsOf(lists[i]).length > 0;
    }
  }

  // Re-render the outline from the server: after a save (numbering, arrow buttons)
  // and after a refusal (puts everything back where the server has it).
  function refreshOutline(outline) {
    var url = outline.getAttribute("data-outline-url");
    if (window.htmx && url) {
      window.htmx.ajax("GET", url, { target: "#outline", swap: "outerHTML" });
    }
  }

  function save(url, ids, outline) {
    setStatus(gettext("Saving…"), "busy");
    var body = new URLSearchParams();
    ids.forEach(function (id) {
      body.append("ids", id);
    });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        if (response.ok) {
          setStatus(gettext("Saved"), "ok");
          return;
        }
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            var text =
              data && data.error
                ? interpolate(gettext("Could not save: %(error)s"), { error: data.error }, true)
                : gettext("Could not save.");
            setStatus(text, "error");
          });
      })
      .catch(function () {
        setStatus(gettext("Could not save: check your connection and try again."), "error");
      })
      .then(function () {
        refreshOutline(outline);
      });
  }

  function initOutline(outline) {
    if (outline.getAttribute("data-sortable-ready") || typeof window.Sortable === "undefined") return;
    outline.setAttribute("data-sortable-ready", "1");
    outline.classList.add("js-sortable");
    var common = {
      animation: 150,
      draggable: "[data-id]",
      ghostClass: outline.getAttribute("data-ghost-class") || "sortable-ghost",
      chosenClass: outline.getAttribute("data-chosen-class") || "sortable-chosen",
    };

    var sections = outline.querySelector('[data-sortable="sections"]');
    if (sections) {
      window.Sortable.create(
        sections,
        Object.assign({}, common, {
          handle: ".section-handle",
          onEnd: function (evt) {
            if (evt.oldIndex === evt.newIndex) return;
            save(sections.getAttribute("data-reorder-url"), idsOf(sections), outline);
          },
        })
      );
    }

    var lessonLists = outline.querySelectorAll('[data-sortable="lessons"]');
    for (var i = 0; i < lessonLists.length; i++) {
      window.Sortable.create(
        lessonLists[i],
        Object.assign({}, common, {
          // Lessons move between the sections of this course only.
          group: lessonLists[i].getAttribute("data-group"),
          handle: ".lesson-handle",
          onEnd: function (evt) {
            togglePlaceholders(outline);
            if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
            // One request: the destination section's lessons in order (a lesson that
            // came from another section moves with it).
            save(evt.to.getAttribute("data-reorder-url"), idsOf(evt.to), outline);
          },
        })
      );
    }
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-outline]")) initOutline(scope);
    var outlines = scope.querySelectorAll("[data-outline]");
    for (var i = 0; i < outlines.length; i++) initOutline(outlines[i]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  // htmx fires htmx:load on the body at start and on every swapped-in element.
  document.addEventListener("htmx:load", function (evt) {
    init(evt.target);
  });

  // Status from the server (HX-Trigger: {"authoringStatus": "...", "authoringFailed": true}).
  // The text is translated, so a refusal is told by its own event, not by its wording;
  // htmx fires the events in the order of the header's keys.
  document.addEventListener("authoringStatus", function (evt) {
    var text = evt.detail && typeof evt.detail.value === "string" ? evt.detail.value : gettext("Saved");
    setStatus(text, "ok");
  });
  document.addEventListener("authoringFailed", function () {
    var el = document.getElementById("authoring-status");
    if (el) setStatus(el.textContent, "error");
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail && evt.detail.xhr ? evt.detail.xhr.status : "";
    setStatus(
      interpolate(
        gettext("Could not save (the server answered %(status)s). Reload the page and try again."),
        { status: status },
        true
      ),
      "error"
    );
  });
  document.addEventListener("htmx:sendError", function () {
    setStatus(gettext("Could not save: check your connection and try again."), "error");
  });

  // Focus: htmx already restores focus to an element with the same id after a swap.
  // When that element is gone or hidden, focus the first field the server marked
  // invalid, else the form's data-return-focus target.
  var returnFocus = null;
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail && evt.detail.elt;
    var holder = elt && elt.closest ? elt.closest("[data-return-focus]") : null;
    returnFocus = holder ? holder.getAttribute("data-return-focus") : null;
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    var active = document.activeElement;
    var lost = !active || active === document.body || !active.offsetParent;
    if (lost) {
      var swapped = evt.detail && evt.detail.elt && evt.detail.elt.isConnected ? evt.detail.elt : document;
      var target = swapped.querySelector('[aria-invalid="true"]');
      if (!target && returnFocus) target = document.querySelector(returnFocus);
      if (target) target.focus();
    }
    returnFocus = null;
  });
})();
