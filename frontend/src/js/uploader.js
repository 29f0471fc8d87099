// The lesson editor's resumable video uploader (bundled by esbuild into
// courseplatform/static/dist/uploader.js). Markup: video/partials/lesson_video.html.
//
// Uppy does the transport; this file is the small UI around it:
// - local storage: @uppy/tus against /manage/videos/tus/ (tus 1.0). The upload URL is
//   kept in localStorage under a fingerprint of the file and the lesson, so choosing
//   the same file after a reload continues where it stopped; lost connections retry.
// - S3/R2: @uppy/aws-s3 multipart straight to the bucket through presigned part URLs
//   from /manage/videos/s3/. We keep {uploadId, key} per file and lesson in
//   localStorage ourselves so the same works after a reload (ListParts skips the
//   parts already there).
// Class names are never set from here (Tailwind only scans templates): the script
// toggles `hidden`, data attributes, text and the progress bar's width.
import Uppy from "@uppy/core";
import Tus from "@uppy/tus";
import AwsS3 from "@uppy/aws-s3";

const MiB = 1024 * 1024;
const TUS_RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];
const S3_PREFIX = "cp-s3::";

// Must match multipart.part_size() on the server (video/multipart.py): each part URL is signed for its length.
function partSize(size, cfg) {
  const needed = Math.ceil(size / cfg.maxParts / MiB) * MiB;
  return Math.max(cfg.partBytes, needed);
}

// gettext/ngettext/interpolate/get_format: Django's JavaScript catalog (base.html loads it
// before this bundle). Named placeholders (interpolate(..., true)) keep the word order free
// for translators; the strings are literal gettext() arguments so makemessages finds them.
// 1.5 → "1,5" where the page's language writes decimals with a comma.
function decimal(value, digits) {
  const separator = typeof get_format === "function" ? get_format("DECIMAL_SEPARATOR") : ".";
  return value.toFixed(digits).replace(".", separator || ".");
}

function formatBytes(bytes) {
  if (bytes == null || Number.isNaN(bytes)) return "";
  const units = [gettext("KB"), gettext("MB"), gettext("GB"), gettext("TB")];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return interpolate(ngettext("%(count)s byte", "%(count)s bytes", value), { count: value }, true);
  // Translators: a file size, e.g. "4.2 MB": %(size)s is the number, %(unit)s the unit.
  return interpolate(gettext("%(size)s %(unit)s"), { size: decimal(value, value < 10 ? 1 : 0), unit: units[unit - 1] }, true);
}

function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return interpolate(gettext("about %(seconds)s s left"), { seconds: Math.max(1, Math.round(seconds)) }, true);
  if (seconds < 3600) return interpolate(gettext("about %(minutes)s min left"), { minutes: Math.round(seconds / 60) }, true);
  const hours = Math.floor(seconds / 3600);
  return interpolate(gettext("about %(hours)s h %(minutes)s min left"), { hours, minutes: Math.round((seconds - hours * 3600) / 60) }, true);
}

// What the server said, for a tus error (tus-js-client DetailedError) or our own.
function errorMessage(error) {
  const response = error && (error.originalResponse || (error.cause && error.cause.originalResponse));
  if (response && typeof response.getBody === "function") {
    const status = response.getStatus();
    const body = String(response.getBody() || "").trim();
    if (body && body.length < 500 && !body.startsWith("<")) return body;
    if (status === 403) return gettext("You are signed out or may not upload here. Sign in again, then choose the same file to resume.");
    if (status === 413) return gettext("This video is too large for your plan.");
    if (status) return interpolate(gettext("The upload failed (HTTP %(status)s). Retry, or choose the file again."), { status }, true);
  }
  if (error && (error.isNetworkError || /network|failed to fetch|connection/i.test(String(error.message)))) {
    return gettext("The connection was lost. The upload continues from where it stopped when you are back online — or press “Retry now”.");
  }
  return (error && error.message) || gettext("The upload failed. Retry, or choose the file again.");
}

function storedTusUploads(endpoint) {
  const found = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith("tus::tus-") || !key.includes(`-${endpoint}::`)) continue;
    try {
      const value = JSON.parse(localStorage.getItem(key) || "{}");
      found.push({
        storageKey: key,
        name: (value.metadata && (value.metadata.filename || value.metadata.name)) || gettext("a video"),
        size: value.size,
        uploadUrl: value.uploadUrl,
      });
    } catch {
      localStorage.removeItem(key);
    }
  }
  return found;
}

function storedS3Uploads(lesson) {
  const prefix = `${S3_PREFIX}${lesson}::`;
  const found = [];
  for (let i = 0; i < localStorage.length; i += 1) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith(prefix)) continue;
    try {
      found.push({ storageKey: key, ...JSON.parse(localStorage.getItem(key) || "{}") });
    } catch {
      localStorage.removeItem(key);
    }
  }
  return found;
}

function setup(root) {
  const cfg = JSON.parse(root.dataset.config);
  const $ = (role) => root.querySelector(`[data-role="${role}"]`);
  const ui = {
    input: $("input"),
    dropzone: $("dropzone"),
    progress: $("progress"),
    filename: $("filename"),
    percent: $("percent"),
    bar: $("bar"),
    fill: $("fill"),
    detail: $("detail"),
    pause: $("pause"),
    retry: $("retry"),
    cancel: $("cancel"),
    error: $("error"),
    errorText: $("error-text"),
    resume: $("resume"),
    resumeName: $("resume-name"),
    resumeSize: $("resume-size"),
    resumeDiscard: $("resume-discard"),
  };
  let state = "idle"; // idle | uploading | paused | error | done
  let current = null; // the Uppy file id being uploaded
  let samples = []; // [time ms, bytes] for speed and ETA

  const csrfHeaders = { "X-CSRFToken": cfg.csrf };

  const uppy = new Uppy({
    id: `lesson-${cfg.lesson}`,
    autoProceed: false,
    allowMultipleUploadBatches: true,
    restrictions: {
      maxNumberOfFiles: 1,
      maxFileSize: cfg.maxBytes || null,
      allowedFileTypes: cfg.accept.split(","),
    },
    meta: { lesson: String(cfg.lesson) },
  });

  // --- transports ------------------------------------------------------------------
  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { ...csrfHeaders, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status === 204) return null;
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (!response.ok) {
      const error = new Error(data.error || interpolate(gettext("The server answered HTTP %(status)s."), { status: response.status }, true));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  const s3Key = (file) => `${S3_PREFIX}${cfg.lesson}::${file.id}`;
  const uploadOf = (file) => (uppy.getFile(file.id) || file).meta.upload;
  const s3Url = (file, suffix = "") => `${cfg.endpoint}${uploadOf(file)}/${suffix}`;

  if (cfg.mode === "tus") {
    uppy.use(Tus, {
      endpoint: cfg.endpoint,
      headers: csrfHeaders,
      chunkSize: cfg.chunkBytes,
      retryDelays: TUS_RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      allowedMetaFields: ["name", "type", "lesson"],
      limit: 1,
    });
  } else {
    uppy.use(AwsS3, {
      shouldUseMultipart: true,
      limit: 4,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      getChunkSize: (file) => partSize(file.size, cfg),
      async createMultipartUpload(file) {
        const data = await api("POST", cfg.endpoint, {
          filename: file.name,
          size: file.size,
          type: file.type,
          lesson: cfg.lesson,
        });
        uppy.setFileMeta(file.id, { upload: data.upload });
        localStorage.setItem(
          s3Key(file),
          JSON.stringify({ upload: data.upload, uploadId: data.uploadId, key: data.key, name: file.name, size: file.size }),
        );
        return { uploadId: data.uploadId, key: data.key };
      },
      async signPart(file, { partNumber }) {
        const data = await api("GET", s3Url(file, `parts/${partNumber}/`));
        return { method: "PUT", url: data.url };
      },
      async listParts(file) {
        const data = await api("GET", s3Url(file, "parts/"));
        return data.parts;
      },
      async completeMultipartUpload(file) {
        await api("POST", s3Url(file, "complete/"), { lesson: cfg.lesson });
        localStorage.removeItem(s3Key(file));
        return { location: "" };
      },
      async abortMultipartUpload(file) {
        localStorage.removeItem(s3Key(file));
        if (uploadOf(file)) await api("DELETE", s3Url(file));
      },
    });
  }

  // An S3 upload of this file for this lesson started before a reload: continue it.
  async function restoreS3(file) {
    const saved = localStorage.getItem(s3Key(file));
    if (!saved) return;
    try {
      const entry = JSON.parse(saved);
      const data = await api("GET", `${cfg.endpoint}${entry.upload}/parts/`);
      uppy.setFileMeta(file.id, { upload: entry.upload });
      uppy.setFileState(file.id, { s3Multipart: { uploadId: data.uploadId, key: data.key } });
    } catch {
      localStorage.removeItem(s3Key(file)); // gone or finished: start afresh
    }
  }

  // --- UI --------------------------------------------------------------------------
  function showError(message) {
    ui.errorText.textContent = message;
    ui.error.hidden = !message;
  }

  function setProgress(bytesUploaded, bytesTotal) {
    const percent = bytesTotal ? Math.floor((100 * bytesUploaded) / bytesTotal) : 0;
    ui.fill.style.width = `${percent}%`;
    ui.bar.setAttribute("aria-valuenow", String(percent));
    ui.percent.textContent = `${percent}%`;
    const now = Date.now();
    samples.push([now, bytesUploaded]);
    samples = samples.filter(([t]) => now - t < 8000);
    let detail = interpolate(gettext("%(done)s of %(total)s"), { done: formatBytes(bytesUploaded), total: formatBytes(bytesTotal) }, true);
    if (state === "uploading" && samples.length > 1) {
      const [t0, b0] = samples[0];
      const speed = ((bytesUploaded - b0) * 1000) / Math.max(1, now - t0);
      if (speed > 0) {
        const rate = interpolate(gettext("%(size)s/s"), { size: formatBytes(speed) }, true);
        detail += ` · ${rate} · ${formatDuration((bytesTotal - bytesUploaded) / speed)}`;
      }
    }
    if (state === "paused") detail += " · " + gettext("paused");
    ui.detail.textContent = detail;
  }

  function render() {
    const busy = state === "uploading" || state === "paused" || state === "error";
    ui.progress.hidden = state === "idle";
    ui.dropzone.hidden = busy;
    ui.pause.hidden = !(state === "uploading" || state === "paused");
    ui.pause.textContent = state === "paused" ? gettext("Resume") : gettext("Pause");
    ui.retry.hidden = state !== "error";
    ui.cancel.hidden = !busy;
    root.dataset.state = state;
    refreshResumeNote();
  }

  function refreshResumeNote() {
    if (state !== "idle" && state !== "done") {
      ui.resume.hidden = true;
      return;
    }
    const stored = cfg.mode === "tus" ? storedTusUploads(cfg.endpoint) : storedS3Uploads(cfg.lesson);
    const first = stored[0];
    ui.resume.hidden = !first;
    if (first) {
      ui.resumeName.textContent = first.name;
      ui.resumeSize.textContent = first.size ? ` (${formatBytes(first.size)})` : "";
    }
  }

  async function discardStored() {
    if (cfg.mode === "tus") {
      for (const entry of storedTusUploads(cfg.endpoint)) {
        localStorage.removeItem(entry.storageKey);
        if (entry.uploadUrl) {
          fetch(entry.uploadUrl, {
            method: "DELETE",
            credentials: "same-origin",
            headers: { ...csrfHeaders, "Tus-Resumable": "1.0.0" },
          }).catch(() => {});
        }
      }
    } else {
      for (const entry of storedS3Uploads(cfg.lesson)) {
        localStorage.removeItem(entry.storageKey);
        if (entry.upload) api("DELETE", `${cfg.endpoint}${entry.upload}/`).catch(() => {});
      }
    }
    refreshResumeNote();
  }

  function refreshStatus() {
    const target = document.getElementById("lesson-video-status");
    if (!target) return;
    if (window.htmx) {
      window.htmx.ajax("GET", cfg.statusUrl, { target, swap: "outerHTML" });
      return;
    }
    fetch(cfg.statusUrl, { credentials: "same-origin" })
      .then((r) => r.text())
      .then((html) => {
        target.outerHTML = html;
      });
  }

  function addFile(file) {
    if (!file) return;
    if (state === "uploading" || state === "paused") return;
    showError("");
    for (const existing of uppy.getFiles()) uppy.removeFile(existing.id);
    try {
      uppy.addFile({ name: file.name, type: file.type, data: file, source: "Local" });
    } catch (error) {
      showError(error.message || gettext("This file cannot be uploaded."));
    }
  }

  // --- Uppy events -----------------------------------------------------------------
  uppy.on("file-added", async (file) => {
    current = file.id;
    samples = [];
    ui.filename.textContent = file.name;
    state = "uploading";
    setProgress(0, file.size);
    render();
    if (cfg.mode === "s3") await restoreS3(file);
    uppy.upload().catch(() => {});
  });

  uppy.on("restriction-failed", (_file, error) => {
    showError(
      /exceeds maximum allowed size/i.test(error.message) && cfg.maxBytes
        ? interpolate(gettext("This video is larger than your plan allows (%(size)s per video)."), { size: formatBytes(cfg.maxBytes) }, true)
        : /not allowed|file type/i.test(error.message)
          ? gettext("Choose a video file (MP4, MOV, MKV, WebM…).")
          : error.message,
    );
  });

  uppy.on("upload-progress", (file, progress) => {
    if (!file || file.id !== current) return;
    if (state === "error") {
      state = "uploading";
      showError("");
      render();
    }
    setProgress(progress.bytesUploaded, progress.bytesTotal);
  });

  uppy.on("upload-success", (file) => {
    if (!file || file.id !== current) return;
    state = "done";
    setProgress(file.size, file.size);
    ui.detail.textContent = interpolate(gettext("Uploaded %(size)s. Processing starts now — you can leave this page."), { size: formatBytes(file.size) }, true);
    render();
    refreshStatus();
  });

  uppy.on("upload-error", (file, error) => {
    if (!file || file.id !== current) return;
    state = "error";
    showError(errorMessage(error));
    render();
  });

  // --- controls ----------------------------------------------------------------------
  ui.input.addEventListener("change", () => {
    addFile(ui.input.files && ui.input.files[0]);
    ui.input.value = "";
  });

  ui.dropzone.addEventListener("dragover", (event) => {
    event.preventDefault();
    ui.dropzone.dataset.dragging = "true";
  });
  ui.dropzone.addEventListener("dragleave", () => {
    delete ui.dropzone.dataset.dragging;
  });
  ui.dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    delete ui.dropzone.dataset.dragging;
    addFile(event.dataTransfer && event.dataTransfer.files[0]);
  });

  ui.pause.addEventListener("click", () => {
    if (!current) return;
    const paused = uppy.pauseResume(current);
    state = paused ? "paused" : "uploading";
    samples = [];
    render();
    const file = uppy.getFile(current);
    if (file) setProgress(file.progress.bytesUploaded || 0, file.size);
  });

  ui.retry.addEventListener("click", () => {
    if (!current) return;
    showError("");
    state = "uploading";
    render();
    uppy.retryUpload(current).catch(() => {});
  });

  ui.cancel.addEventListener("click", async () => {
    if (current && uppy.getFile(current)) uppy.removeFile(current);
    current = null;
    state = "idle";
    showError("");
    await discardStored();
    render();
  });

  ui.resumeDiscard.addEventListener("click", () => {
    discardStored();
  });

  // Back online after a drop-out: carry on by ourselves.
  window.addEventListener("online", () => {
    if (state === "error" && current) ui.retry.click();
  });

  // "Try another file" in a failed video's status (swapped in by htmx, so delegated).
  document.addEventListener("click", (event) => {
    const trigger = event.target instanceof Element && event.target.closest("[data-uploader-choose]");
    if (!trigger) return;
    event.preventDefault();
    ui.input.click();
  });

  render();
  root.uppy = uppy; // for debugging and the browser tests
}

function init() {
  for (const root of document.querySelectorAll("[data-video-uploader]")) {
    if (!root.dataset.ready) {
      root.dataset.ready = "true";
      setup(root);
    }
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}
