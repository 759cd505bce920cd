// stretchcast's phone page, enhanced: tap a chapter to jump there, a live caption line, the current
// chapter marked, one routine playing at a time, and lock-screen controls that skip by chapter.
// Without JavaScript the page still plays and downloads every routine.
"use strict";

(function () {
  const cards = Array.from(document.querySelectorAll("[data-routine]"));
  const audios = cards.map((card) => card.querySelector("audio"));

  function chapterStarts(card) {
    return Array.from(card.querySelectorAll("button[data-start]")).map((b) => Number(b.dataset.start));
  }

  // The chapter playing at time t: the last one that starts at or before it.
  function chapterAt(starts, t) {
    let index = -1;
    starts.forEach((start, i) => {
      if (start <= t + 0.001) index = i;
    });
    return index;
  }

  function seek(audio, seconds) {
    audio.currentTime = seconds;
    // Playing right away is what someone lying on a mat wants; a browser that refuses still seeks.
    const playing = audio.play();
    if (playing !== undefined) playing.catch(() => {});
  }

  function setUpMediaSession(card, audio) {
    if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
    const cover = card.querySelector("img.cover");
    navigator.mediaSession.metadata = new MediaMetadata({
      title: card.dataset.title || "",
      artist: "stretchcast",
      artwork: cover ? [{ src: cover.src, type: cover.dataset.type || "image/png" }] : [],
    });
    const starts = chapterStarts(card);
    const jump = (step) => {
      const here = chapterAt(starts, audio.currentTime);
      const target = Math.min(Math.max(here + step, 0), starts.length - 1);
      if (starts.length) seek(audio, starts[target]);
    };
    try {
      navigator.mediaSession.setActionHandler("nexttrack", () => jump(1));
      navigator.mediaSession.setActionHandler("previoustrack", () => jump(-1));
    } catch (err) {
      // an older browser without these actions: the player's own controls remain
    }
  }

  cards.forEach((card, n) => {
    const audio = audios[n];
    if (!audio) return;
    const buttons = Array.from(card.querySelectorAll("button[data-start]"));
    const starts = chapterStarts(card);
    const caption = card.querySelector(".caption");

    buttons.forEach((button) => {
      button.addEventListener("click", () => seek(audio, Number(button.dataset.start)));
    });

    audio.addEventListener("timeupdate", () => {
      const current = chapterAt(starts, audio.currentTime);
      buttons.forEach((b, i) => b.setAttribute("aria-current", i === current ? "true" : "false"));
    });

    audio.addEventListener("play", () => {
      audios.forEach((other) => {
        if (other && other !== audio) other.pause();
      });
      setUpMediaSession(card, audio);
    });

    // The captions track is read here and shown in the page's own line (an <audio> element has no
    // picture to draw them on); "hidden" keeps the cues loading and firing without native display.
    const track = audio.textTracks && audio.textTracks[0];
    if (track && caption) {
      track.mode = "hidden";
      const show = () => {
        const cues = Array.from(track.activeCues || []);
        // getCueAsHTML decodes entities and drops cue markup; only its text is shown, never as HTML
        caption.textContent = cues
          .map((cue) => (cue.getCueAsHTML ? cue.getCueAsHTML().textContent : cue.text))
          .join(" ");
      };
      track.addEventListener("cuechange", show);
    }
  });

  // Offline copies of the page need a service worker, which browsers allow only on localhost and
  // https; on a phone over plain http the Download buttons and the podcast feed are the way.
  // "sw.js" is relative to the page, so a site published under a path prefix registers its own.
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
  }
  setUpOfflineSaving();
})();

// "Save for offline": the whole MP3 (one plain GET, never a Range response) goes into the Cache
// API, where the service worker plays it from when the network is gone. Both need a secure context
// (https, or this computer's own localhost); on a plain LAN address the card says why and points
// to Download MP3 instead.
function setUpOfflineSaving() {
  const AUDIO = "stretchcast-audio-v1"; // the service worker reads the same cache
  const slots = Array.from(document.querySelectorAll("[data-offline]"));
  const summary = document.querySelector("[data-saved]");
  if (!slots.length) return;
  const possible = window.isSecureContext && "caches" in window && "serviceWorker" in navigator;

  const size = (bytes) =>
    bytes >= 1e9
      ? `${(bytes / 1e9).toFixed(1)} GB`
      : bytes >= 1e6
        ? `${(bytes / 1e6).toFixed(1)} MB`
        : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
  const keyOf = (href) => {
    const url = new URL(href, document.baseURI);
    return url.origin + url.pathname;
  };

  if (!possible) {
    slots.forEach((slot) => {
      slot.hidden = false;
      slot.classList.add("note");
      slot.textContent =
        "Saving for offline needs a secure address (https, or localhost on this computer); " +
        "this page came over plain http. Use ";
      const link = slot.closest("article").querySelector("a[download]");
      const to = document.createElement("a");
      to.href = link ? link.getAttribute("href") : slot.dataset.offline;
      to.setAttribute("download", "");
      to.textContent = "Download MP3";
      slot.append(to, " to keep the track on this phone, or the podcast feed below.");
    });
    return;
  }

  async function savedBytes(cache, key) {
    const hit = await cache.match(key);
    if (!hit) return null;
    const length = Number(hit.headers.get("Content-Length"));
    return length > 0 ? length : (await hit.blob()).size;
  }

  // A rebuilt track has a new ETag (or length, or date): ask the server, when it answers, whether
  // the saved copy is still the track it serves. Offline, the saved copy is all there is.
  async function outdated(cache, key) {
    const saved = await cache.match(key);
    let now;
    try {
      now = await fetch(key, { method: "HEAD", cache: "no-store" });
    } catch (err) {
      return false;
    }
    if (!saved || !now.ok) return false;
    for (const name of ["ETag", "Last-Modified", "Content-Length"]) {
      const before = saved.headers.get(name);
      const after = now.headers.get(name);
      if (before && after) return before !== after;
    }
    return false;
  }

  async function showSummary(cache) {
    if (!summary) return;
    let count = 0;
    let total = 0;
    for (const request of await cache.keys()) {
      const bytes = await savedBytes(cache, request.url);
      if (bytes !== null) {
        count += 1;
        total += bytes;
      }
    }
    let text =
      count === 0
        ? "Nothing saved for offline in this browser yet."
        : `Saved for offline in this browser: ${count} track${count === 1 ? "" : "s"}, ${size(total)}.`;
    if (navigator.storage && navigator.storage.estimate) {
      const estimate = await navigator.storage.estimate();
      if (estimate.quota) {
        text += ` This site uses ${size(estimate.usage || 0)} of the ${size(estimate.quota)} the browser allows it.`;
      }
    }
    summary.textContent = text;
    summary.hidden = false;
  }

  caches.open(AUDIO).then((cache) => {
    slots.forEach((slot) => {
      const key = keyOf(slot.dataset.offline);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary save";
      const status = document.createElement("span");
      status.className = "saved-status";
      slot.replaceChildren(button, status);
      slot.hidden = false;

      const show = async () => {
        const bytes = await savedBytes(cache, key);
        button.disabled = false;
        button.dataset.kept = bytes === null ? "false" : "true";
        button.textContent = bytes === null ? "Save for offline" : "Remove offline copy";
        status.textContent = bytes === null ? "" : `Saved on this device (${size(bytes)})`;
        if (bytes !== null && (await outdated(cache, key))) {
          button.dataset.kept = "old";
          button.textContent = "Save again";
          status.textContent = `The saved copy (${size(bytes)}) is of an earlier build of this track`;
        }
      };

      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          if (button.dataset.kept === "true") {
            await cache.delete(key);
          } else {
            status.textContent = "Saving…";
            // a plain GET: the server answers 200 with the whole file, never a part of it
            const response = await fetch(key, { cache: "no-store" });
            if (response.status !== 200) throw new Error(`the server answered ${response.status}`);
            await cache.put(key, response);
            if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
          }
        } catch (err) {
          status.textContent = `Could not save: ${err.message || err}. Download MP3 keeps it instead.`;
          button.disabled = false;
          return;
        }
        await show();
        await showSummary(cache);
      });
      show();
    });
    showSummary(cache);
  });
}
