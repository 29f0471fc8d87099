/*
 * The lesson video player: hls.js (native HLS where hls.js cannot run, e.g. iOS
 * Safari), a quality menu (Auto + each rung), playback speed, keyboard shortcuts,
 * resume from the saved position, position saving and lesson auto-complete.
 *
 * Copied as-is to courseplatform/static/dist/player.js (plain script, no bundler,
 * no inline script). Loaded with <script defer> after dist/hls.min.js by
 * video/partials/player.html.
 *
 * Markup contract (video/partials/player.html):
 *   [data-video-player]        root; data-src = master playlist URL,
 *                              data-position-url = POST endpoint ("" = not tracked; each
 *                              beat also carries `watched`: seconds played since the last
 *                              beat, wall-clock while playing, for instructor analytics),
 *                              data-report-url = POST endpoint for a playback failure,
 *                              data-resume = seconds to start at, data-duration
 *   [data-player-video]        the <video>
 *   [data-action=...]          play | toggle | back | forward | mute | menu | fullscreen | retry
 *   [data-menu=speed|quality]  menus; items carry data-rate / data-level
 *   [data-player-*]            seek bar, time, labels, status line, error overlay
 *                              (message + retry button)
 *
 * Tokens in playlist URLs expire after a few minutes (VIDEO_TOKEN_TTL_SECONDS): when
 * a segment or key request is refused (403) the player fetches fresh playlists and
 * carries on from where it was (at most 3 times a minute).
 *
 * Failures are bounded: a key or segment that cannot be decrypted or parsed gets one
 * fresh start (new playlists and key) and then the player gives up; fatal network
 * and media errors get MAX_RECOVERIES attempts; and after MAX_ERRORS load or
 * decrypt errors without a single segment buffered in between it gives up anyway.
 * Giving up stops hls.js (no more requests), shows a message with a "Try again"
 * button and reports the failure once to data-report-url (kind + hls.js detail),
 * which the server writes as one log line. The root then carries data-failed=<kind>
 * and, once the server took the report, data-reported="1".
 *
 * Shortcuts (when focus is in the player or on the page body): Space / K play-pause,
 * ← / → seek 5 s, F full screen, M mute, > / < faster / slower.
 */
(function () {
  "use strict";

  var RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  var SAVE_EVERY_MS = 10000;
  var SEEK_STEP = 5;
  var RATE_KEY = "courseplatform.video.rate";
  var MAX_ERRORS = 8;
  var MAX_RECOVERIES = 2;
  var MAX_REFRESHES_PER_MINUTE = 3;
  // Retrying these fetches the same bytes again: one fresh start, then give up.
  var BAD_CONTENT = ["fragDecryptError", "fragParsingError", "keyLoadError"];
  // [message, what to do]; gettext() is Django's JavaScript catalog (base.html loads it first).
  var MESSAGES = {
    decrypt: [gettext("This video could not be unlocked."), gettext("Try again. If it keeps happening, tell your instructor.")],
    network: [gettext("The video stopped loading."), gettext("Check your connection and try again.")],
    media: [gettext("Your browser could not play this video."), gettext("Try again. If it keeps happening, tell your instructor.")],
    access: [gettext("You no longer have access to this video."), gettext("Your session may have expired: reload the page.")],
  };
  var NATIVE_ERRORS = { 1: "MEDIA_ERR_ABORTED", 2: "MEDIA_ERR_NETWORK", 3: "MEDIA_ERR_DECODE", 4: "MEDIA_ERR_SRC_NOT_SUPPORTED" };

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  // 1.5 → "1,5" where the page's language writes decimals with a comma (the catalog's
  // get_format; the server renders the menu the same way).
  function formatRate(rate) {
    var separator = typeof window.get_format === "function" ? window.get_format("DECIMAL_SEPARATOR") : ".";
    return String(rate).replace(".", separator || ".");
  }

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) {
      /* fall through to the cookie */
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function Player(root) {
    this.root = root;
    this.video = root.querySelector("[data-player-video]");
    this.frame = root.querySelector("[data-player-frame]");
    this.src = root.getAttribute("data-src");
    this.positionUrl = root.getAttribute("data-position-url") || "";
    this.reportUrl = root.getAttribute("data-report-url") || "";
    this.resume = parseFloat(root.getAttribute("data-resume") || "0") || 0;
    this.completed = root.getAttribute("data-completed") === "1";
    this.hls = null;
    this.lastSaved = -1;
    this.watchedMs = 0; // played, not yet reported
    this.playingSince = 0; // Date.now() when playback (re)started, 0 while stopped
    this.refreshes = [];
    this.wantedLevel = -1;
    this.resetFailures();
    this.init();
  }

  Player.prototype.$ = function (selector) {
    return this.root.querySelector(selector);
  };

  Player.prototype.init = function () {
    var self = this;
    var video = this.video;
    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      this.mode = "hls.js";
      this.createHls(this.resume);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      this.mode = "native";
      video.src = this.src;
      video.addEventListener(
        "loadedmetadata",
        function () {
          if (self.resume > 0) video.currentTime = self.resume;
        },
        { once: true }
      );
      video.addEventListener("error", function () {
        var code = video.error ? video.error.code : 0;
        self.giveUp(code === 2 ? "network" : "media", { details: NATIVE_ERRORS[code] || "MEDIA_ERR" });
      });
    } else {
      this.showError(gettext("This browser cannot play this video. Try a current Chrome, Firefox, Edge or Safari."));
      return;
    }
    this.root.setAttribute("data-mode", this.mode);
    this.bindControls();
    this.bindKeyboard();
    this.bindProgress();
    var stored = parseFloat(window.localStorage ? window.localStorage.getItem(RATE_KEY) : "");
    if (RATES.indexOf(stored) >= 0) this.setRate(stored);
  };

  // --- hls.js -----------------------------------------------------------------

  Player.prototype.createHls = function (startPosition) {
    var self = this;
    var Hls = window.Hls;
    var hls = new Hls({
      startPosition: startPosition > 0 ? startPosition : -1,
      capLevelToPlayerSize: true,
      maxBufferLength: 30,
      backBufferLength: 60,
    });
    this.hls = hls;
    this.root.hls = hls; // for the browser tests and for debugging
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      self.buildQualityMenu();
      if (self.wantedLevel >= 0 && self.wantedLevel < hls.levels.length) {
        hls.currentLevel = self.wantedLevel;
      }
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, function (_event, data) {
      self.root.setAttribute("data-level", String(data.level));
      self.updateQualityLabel();
    });
    hls.on(Hls.Events.FRAG_BUFFERED, function () {
      // Playback is moving: earlier errors were transient.
      self.errors = 0;
      self.recoveries = 0;
    });
    hls.on(Hls.Events.ERROR, function (_event, data) {
      self.onHlsError(data);
    });
    hls.loadSource(this.src);
    hls.attachMedia(this.video);
  };

  Player.prototype.resetFailures = function () {
    this.failed = "";
    this.errors = 0; // load/decrypt errors since the last buffered segment
    this.totalErrors = 0;
    this.recoveries = 0; // startLoad / recoverMediaError since the last buffered segment
    this.badContent = 0; // decrypt/parse failures since the player (re)started
    this.root.removeAttribute("data-failed");
    this.root.removeAttribute("data-reported");
  };

  Player.prototype.failureKind = function (data) {
    var code = data.response && data.response.code;
    if (code === 403 || code === 410) return "access";
    if (data.details === "fragDecryptError" || data.details === "keyLoadError") return "decrypt";
    // A wrong key "decrypts" to noise (hls.js falls back to software AES, which does not
    // check the padding): an encrypted segment that does not parse was not decrypted.
    var key = data.frag && data.frag.decryptdata;
    if (data.details === "fragParsingError" && key && key.method && key.method !== "NONE") return "decrypt";
    if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) return "network";
    return "media";
  };

  Player.prototype.onHlsError = function (data) {
    if (this.failed) return;
    var Hls = window.Hls;
    var code = data.response && data.response.code;
    var counted = data.fatal || data.type === Hls.ErrorTypes.NETWORK_ERROR || BAD_CONTENT.indexOf(data.details) >= 0;
    if (counted) {
      this.errors += 1;
      this.totalErrors += 1;
      if (this.errors > MAX_ERRORS) {
        this.giveUp(this.failureKind(data), data);
        return;
      }
    }
    if (code === 403 || code === 410) {
      // A playlist, key or segment token expired: get fresh playlists and go on.
      this.scheduleRefresh(data);
      return;
    }
    if (BAD_CONTENT.indexOf(data.details) >= 0) {
      this.badContent += 1;
      if (this.badContent === 1) this.scheduleRefresh(data);
      else this.giveUp(this.failureKind(data), data);
      return;
    }
    if (!data.fatal) return;
    if (this.recoveries >= MAX_RECOVERIES || (data.type !== Hls.ErrorTypes.NETWORK_ERROR && data.type !== Hls.ErrorTypes.MEDIA_ERROR)) {
      this.giveUp(this.failureKind(data), data);
      return;
    }
    this.recoveries += 1;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) this.hls.startLoad();
    else this.hls.recoverMediaError();
  };

  // After this error event has been handled: hls.js must not be destroyed from inside it.
  Player.prototype.scheduleRefresh = function (data) {
    var self = this;
    if (this.refreshing) return;
    this.refreshing = true;
    window.setTimeout(function () {
      self.refreshing = false;
      if (!self.failed) self.refresh(data);
    }, 0);
  };

  Player.prototype.refresh = function (data) {
    var now = Date.now();
    this.refreshes = this.refreshes.filter(function (t) {
      return now - t < 60000;
    });
    if (this.refreshes.length >= MAX_REFRESHES_PER_MINUTE) {
      this.giveUp(this.failureKind(data), data);
      return;
    }
    this.refreshes.push(now);
    this.root.setAttribute("data-refreshes", String(Number(this.root.getAttribute("data-refreshes") || 0) + 1));
    this.restart(this.video.currentTime || this.resume, !this.video.paused);
  };

  Player.prototype.restart = function (position, play) {
    var hls = this.hls;
    this.wantedLevel = hls && !hls.autoLevelEnabled ? hls.currentLevel : -1;
    if (hls) hls.destroy();
    this.createHls(position);
    if (play) this.video.play().catch(function () {});
  };

  // Stop for good: no more requests, a message with "Try again", one report.
  Player.prototype.giveUp = function (kind, data) {
    if (this.failed) return;
    this.failed = kind;
    if (this.hls) {
      this.wantedLevel = !this.hls.autoLevelEnabled ? this.hls.currentLevel : -1;
      this.hls.destroy();
      this.hls = null;
      this.root.hls = null;
    } else {
      this.video.removeAttribute("src");
      this.video.load();
    }
    this.root.setAttribute("data-failed", kind);
    this.video.pause();
    this.showError(MESSAGES[kind][0], MESSAGES[kind][1]);
    this.report(kind, data || {});
  };

  Player.prototype.retry = function () {
    var position = this.video.currentTime || this.resume;
    this.hideError();
    this.resetFailures();
    this.refreshes = [];
    if (this.mode === "hls.js") {
      this.createHls(position);
    } else {
      this.video.src = this.src;
      this.video.load();
    }
    this.play();
  };

  Player.prototype.report = function (kind, data) {
    if (!this.reportUrl) return;
    var self = this;
    var body = new FormData();
    body.append("kind", kind);
    body.append("detail", String(data.details || "").slice(0, 64));
    body.append("http_status", String((data.response && data.response.code) || 0));
    body.append("failures", String(this.totalErrors));
    body.append("csrfmiddlewaretoken", csrfToken());
    fetch(this.reportUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    })
      .then(function (response) {
        self.root.setAttribute("data-reported", response.ok ? "1" : String(response.status));
      })
      .catch(function () {
        /* nothing more to do: the student already sees the message */
      });
  };

  // --- controls ---------------------------------------------------------------

  Player.prototype.bindControls = function () {
    var self = this;
    var video = this.video;
    this.root.addEventListener("click", function (event) {
      var target = event.target.closest("[data-action], [data-rate], [data-level]");
      if (!target || !self.root.contains(target)) return;
      if (target.hasAttribute("data-rate")) {
        self.setRate(parseFloat(target.getAttribute("data-rate")));
        self.closeMenus(true);
        return;
      }
      if (target.hasAttribute("data-level")) {
        self.setLevel(parseInt(target.getAttribute("data-level"), 10));
        self.closeMenus(true);
        return;
      }
      var action = target.getAttribute("data-action");
      if (action === "play") self.play();
      else if (action === "toggle") self.toggle();
      else if (action === "back") self.seekBy(-SEEK_STEP);
      else if (action === "forward") self.seekBy(SEEK_STEP);
      else if (action === "mute") self.toggleMute();
      else if (action === "fullscreen") self.toggleFullscreen();
      else if (action === "menu") self.toggleMenu(target);
      else if (action === "retry") self.retry();
    });
    document.addEventListener("click", function (event) {
      if (!event.target.closest("[data-menu], [data-action=menu]")) self.closeMenus();
    });
    video.addEventListener("click", function () {
      self.toggle();
    });
    video.addEventListener("dblclick", function () {
      self.toggleFullscreen();
    });

    var seek = this.$("[data-player-seek]");
    var current = this.$("[data-player-current]");
    var durationEl = this.$("[data-player-duration]");
    var seeking = false;
    seek.addEventListener("input", function () {
      seeking = true;
      current.textContent = clock(parseFloat(seek.value));
      seek.setAttribute("aria-valuetext", current.textContent);
    });
    seek.addEventListener("change", function () {
      seeking = false;
      video.currentTime = parseFloat(seek.value);
    });
    video.addEventListener("durationchange", function () {
      if (isFinite(video.duration)) {
        seek.max = String(video.duration);
        durationEl.textContent = clock(video.duration);
      }
    });
    video.addEventListener("timeupdate", function () {
      if (!seeking) {
        seek.value = String(video.currentTime);
        current.textContent = clock(video.currentTime);
        seek.setAttribute("aria-valuetext", current.textContent);
      }
    });
    var onState = function () {
      self.updatePlayState();
    };
    ["play", "pause", "ended", "playing"].forEach(function (name) {
      video.addEventListener(name, onState);
    });
    video.addEventListener("volumechange", function () {
      self.root.querySelector('[data-icon="volume"]').classList.toggle("hidden", video.muted);
      self.root.querySelector('[data-icon="muted"]').classList.toggle("hidden", !video.muted);
      self.$("[data-player-mute]").setAttribute("aria-label", video.muted ? gettext("Unmute") : gettext("Mute"));
    });
    video.addEventListener("ratechange", function () {
      self.updateRateLabel();
    });
    this.bindIdle();
  };

  // Controls fade out while the video plays and nobody moves the pointer or a key.
  Player.prototype.bindIdle = function () {
    var self = this;
    var frame = this.frame;
    var timer = null;
    var wake = function () {
      frame.setAttribute("data-idle", "false");
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var menuOpen = self.root.querySelector("[data-menu]:not(.hidden)");
        var active = document.activeElement;
        var focused = self.root.contains(active) && active !== self.video && active.matches(":focus-visible");
        if (!self.video.paused && !menuOpen && !focused) frame.setAttribute("data-idle", "true");
      }, 2500);
    };
    ["pointermove", "pointerdown", "keydown", "focusin"].forEach(function (name) {
      frame.addEventListener(name, wake);
    });
    document.addEventListener("keydown", wake);
    this.video.addEventListener("play", wake);
    this.video.addEventListener("pause", wake);
  };

  Player.prototype.play = function () {
    var self = this;
    var promise = this.video.play();
    if (promise && promise.catch) {
      promise.catch(function (error) {
        if (error && error.name === "NotAllowedError") self.updatePlayState();
      });
    }
  };

  Player.prototype.toggle = function () {
    if (this.video.paused || this.video.ended) this.play();
    else this.video.pause();
  };

  Player.prototype.seekBy = function (delta) {
    var video = this.video;
    var end = isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.min(Math.max(0, video.currentTime + delta), end);
  };

  Player.prototype.toggleMute = function () {
    this.video.muted = !this.video.muted;
  };

  Player.prototype.toggleFullscreen = function () {
    var frame = this.frame;
    var doc = document;
    if (doc.fullscreenElement || doc.webkitFullscreenElement) {
      (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc);
    } else if (frame.requestFullscreen) {
      frame.requestFullscreen().catch(function () {});
    } else if (frame.webkitRequestFullscreen) {
      frame.webkitRequestFullscreen();
    } else if (this.video.webkitEnterFullscreen) {
      this.video.webkitEnterFullscreen(); // iPhone: only the video element can go full screen
    }
  };

  Player.prototype.setRate = function (rate) {
    if (RATES.indexOf(rate) < 0) return;
    this.video.playbackRate = rate;
    this.video.defaultPlaybackRate = rate;
    try {
      window.localStorage.setItem(RATE_KEY, String(rate));
    } catch (e) {
      /* private mode */
    }
    this.updateRateLabel();
  };

  Player.prototype.stepRate = function (direction) {
    var index = RATES.indexOf(this.video.playbackRate);
    if (index < 0) index = RATES.indexOf(1);
    var next = RATES[Math.min(Math.max(index + direction, 0), RATES.length - 1)];
    this.setRate(next);
    this.say(interpolate(gettext("Speed %(rate)s×"), { rate: formatRate(next) }, true));
  };

  Player.prototype.updateRateLabel = function () {
    var rate = this.video.playbackRate;
    this.$("[data-player-speed-label]").textContent = formatRate(rate) + "×";
    this.root.querySelectorAll("[data-rate]").forEach(function (item) {
      item.setAttribute("aria-checked", parseFloat(item.getAttribute("data-rate")) === rate ? "true" : "false");
    });
  };

  Player.prototype.updatePlayState = function () {
    var paused = this.video.paused || this.video.ended;
    var toggle = this.$("[data-player-toggle]");
    toggle.setAttribute("aria-label", paused ? gettext("Play") : gettext("Pause"));
    toggle.querySelector('[data-icon="play"]').classList.toggle("hidden", !paused);
    toggle.querySelector('[data-icon="pause"]').classList.toggle("hidden", paused);
    var big = this.$("[data-player-bigplay]");
    big.classList.toggle("hidden", !paused);
    big.classList.toggle("grid", paused);
    this.root.setAttribute("data-state", paused ? "paused" : "playing");
  };

  // --- quality ----------------------------------------------------------------

  Player.prototype.buildQualityMenu = function () {
    var hls = this.hls;
    var menu = this.$('[data-menu="quality"]');
    var auto = menu.querySelector('[data-level="-1"]').parentElement;
    menu.querySelectorAll("[data-level]").forEach(function (item) {
      if (item.getAttribute("data-level") !== "-1") item.parentElement.remove();
    });
    var order = hls.levels
      .map(function (level, index) {
        return { level: level, index: index };
      })
      .sort(function (a, b) {
        return (b.level.height || 0) - (a.level.height || 0) || b.level.bitrate - a.level.bitrate;
      });
    order.forEach(function (entry) {
      var li = auto.cloneNode(true);
      var button = li.querySelector("button");
      button.setAttribute("data-level", String(entry.index));
      button.setAttribute("aria-checked", "false");
      button.textContent = entry.level.height ? entry.level.height + "p" : Math.round(entry.level.bitrate / 1000) + " kbps";
      menu.appendChild(li);
    });
    this.$("[data-player-quality]").hidden = hls.levels.length < 2;
    this.root.setAttribute("data-levels", String(hls.levels.length));
    this.updateQualityLabel();
  };

  Player.prototype.setLevel = function (index) {
    if (!this.hls) return;
    this.wantedLevel = index;
    this.hls.currentLevel = index; // -1 = automatic (ABR)
    this.updateQualityLabel();
  };

  Player.prototype.updateQualityLabel = function () {
    var hls = this.hls;
    if (!hls) return;
    var auto = hls.autoLevelEnabled;
    var level = hls.levels[hls.currentLevel];
    var name = level && level.height ? level.height + "p" : "";
    this.$("[data-player-quality-label]").textContent = auto
      ? name
        ? interpolate(gettext("Auto (%(quality)s)"), { quality: name }, true)
        : gettext("Auto")
      : name;
    var selected = auto ? -1 : hls.currentLevel;
    this.root.querySelectorAll("[data-level]").forEach(function (item) {
      item.setAttribute("aria-checked", parseInt(item.getAttribute("data-level"), 10) === selected ? "true" : "false");
    });
  };

  // --- menus ------------------------------------------------------------------

  Player.prototype.toggleMenu = function (button) {
    var menu = this.$('[data-menu="' + button.getAttribute("data-menu-target") + '"]');
    var open = menu.classList.contains("hidden");
    this.closeMenus();
    if (open) {
      menu.classList.remove("hidden");
      button.setAttribute("aria-expanded", "true");
      var checked = menu.querySelector('[aria-checked="true"]') || menu.querySelector("button");
      if (checked) checked.focus();
    }
  };

  Player.prototype.openMenuButton = function () {
    return this.root.querySelector('[data-action=menu][aria-expanded="true"]');
  };

  // ArrowDown/ArrowUp wrap around, Home/End jump; Tab leaves the menu (it closes).
  Player.prototype.moveInMenu = function (menu, target, key) {
    var items = Array.prototype.slice.call(menu.querySelectorAll("button"));
    var index = items.indexOf(target);
    var next = -1;
    if (key === "ArrowDown") next = (index + 1) % items.length;
    else if (key === "ArrowUp") next = (index - 1 + items.length) % items.length;
    else if (key === "Home") next = 0;
    else if (key === "End") next = items.length - 1;
    else if (key === "Tab") {
      // Focus the menu's button first: Tab then moves on from there, not from a hidden item.
      var opener = this.openMenuButton();
      this.closeMenus();
      if (opener) opener.focus();
      return false;
    }
    if (next < 0) return false;
    items[next].focus();
    return true;
  };

  // ``refocus``: an item was picked; focus goes back to the menu's button rather than
  // to the page (the item is hidden now).
  Player.prototype.closeMenus = function (refocus) {
    var opener = refocus ? this.openMenuButton() : null;
    if (opener) opener.focus();
    this.root.querySelectorAll("[data-menu]").forEach(function (menu) {
      menu.classList.add("hidden");
    });
    this.root.querySelectorAll("[data-action=menu]").forEach(function (button) {
      button.setAttribute("aria-expanded", "false");
    });
  };

  // --- keyboard ---------------------------------------------------------------

  Player.prototype.bindKeyboard = function () {
    var self = this;
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (!self.root.isConnected) return; // swapped out by htmx
      var target = event.target;
      var inPlayer = self.root.contains(target);
      var onPage = target === document.body || target === document.documentElement;
      if (!inPlayer && !onPage) return;
      if (target.closest && target.closest("input:not([data-player-seek]), textarea, select, [contenteditable]")) return;
      var key = event.key;
      var onButton = inPlayer && target.tagName === "BUTTON";
      if (key === "Escape") {
        var opener = self.openMenuButton();
        self.closeMenus();
        if (opener && inPlayer) opener.focus();
        return;
      }
      // Inside an open menu the arrow keys move between its items (ARIA menu pattern).
      var menu = target.closest && target.closest("[data-menu]");
      if (menu && inPlayer && self.moveInMenu(menu, target, key)) {
        event.preventDefault();
        return;
      }
      if ((key === " " || key === "Enter") && onButton) return; // the button's own click
      if (target.matches && target.matches("[data-player-seek]") && (key === "ArrowLeft" || key === "ArrowRight")) {
        event.preventDefault();
      }
      var handled = true;
      if (key === " " || key === "k" || key === "K") self.toggle();
      else if (key === "ArrowLeft") self.seekBy(-SEEK_STEP);
      else if (key === "ArrowRight") self.seekBy(SEEK_STEP);
      else if (key === "f" || key === "F") self.toggleFullscreen();
      else if (key === "m" || key === "M") self.toggleMute();
      else if (key === ">" || (key === "." && event.shiftKey)) self.stepRate(1);
      else if (key === "<" || (key === "," && event.shiftKey)) self.stepRate(-1);
      else handled = false;
      if (handled) event.preventDefault();
    });
  };

  Player.prototype.say = function (text) {
    var status = this.$("[data-player-status]");
    if (status) status.textContent = text;
  };

  // ``hint`` given: the failure can be retried (hint says how, with a "Try again" button).
  Player.prototype.showError = function (text, hint) {
    var el = this.$("[data-player-error]");
    this.$("[data-player-error-message]").textContent = text;
    this.$("[data-player-error-hint]").textContent = hint || "";
    var retry = this.$("[data-player-retry]");
    retry.classList.toggle("hidden", !hint);
    retry.classList.toggle("inline-flex", !!hint);
    el.classList.remove("hidden");
    el.classList.add("grid");
    if (hint) retry.focus({ preventScroll: true });
  };

  Player.prototype.hideError = function () {
    var el = this.$("[data-player-error]");
    el.classList.add("hidden");
    el.classList.remove("grid");
  };

  // --- progress ---------------------------------------------------------------

  Player.prototype.bindProgress = function () {
    var self = this;
    var video = this.video;
    if (!this.positionUrl) return;
    // Watch time: wall-clock time while the video really plays (not paused, not
    // stalled waiting for data), reported in whole seconds with each beat.
    video.addEventListener("playing", function () {
      if (!self.playingSince) self.playingSince = Date.now();
    });
    ["pause", "ended", "waiting", "seeking", "emptied"].forEach(function (name) {
      video.addEventListener(name, function () {
        self.takeWatched();
        self.playingSince = 0;
      });
    });
    var timer = window.setInterval(function () {
      if (!self.root.isConnected) {
        window.clearInterval(timer);
        if (self.hls) self.hls.destroy();
        return;
      }
      if (!video.paused && !video.seeking) self.savePosition(false);
    }, SAVE_EVERY_MS);
    video.addEventListener("pause", function () {
      self.savePosition(false);
    });
    video.addEventListener("ended", function () {
      self.savePosition(false);
    });
    window.addEventListener("pagehide", function () {
      self.savePosition(true);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") self.savePosition(true);
    });
  };

  // Move the time played since playback (re)started into watchedMs.
  Player.prototype.takeWatched = function () {
    if (!this.playingSince) return;
    var now = Date.now();
    this.watchedMs += Math.max(0, now - this.playingSince);
    this.playingSince = now;
  };

  Player.prototype.savePosition = function (leaving) {
    if (!this.root.isConnected) return;
    var position = this.video.currentTime;
    if (!isFinite(position) || Math.floor(position) === this.lastSaved) return;
    this.lastSaved = Math.floor(position);
    if (!this.video.paused) this.takeWatched();
    var watched = Math.floor(this.watchedMs / 1000);
    this.watchedMs -= watched * 1000; // the fraction waits for the next beat
    var body = new FormData();
    body.append("position", position.toFixed(2));
    body.append("watched", String(watched));
    body.append("csrfmiddlewaretoken", csrfToken());
    if (leaving && navigator.sendBeacon) {
      navigator.sendBeacon(this.positionUrl, body);
      return;
    }
    var self = this;
    fetch(this.positionUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      keepalive: true,
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.completed_now && !self.completed) {
          self.completed = true;
          self.root.setAttribute("data-completed", "1");
          self.say(gettext("Lesson completed ✓"));
          self.root.dispatchEvent(new CustomEvent("video:completed", { bubbles: true }));
        }
      })
      .catch(function () {
        self.lastSaved = -1; // try again next time
        self.watchedMs += watched * 1000; // and report this beat's seconds then
      });
  };

  function start() {
    document.querySelectorAll("[data-video-player]").forEach(function (root) {
      if (!root.videoPlayer) root.videoPlayer = new Player(root);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSettle", start);
})();
