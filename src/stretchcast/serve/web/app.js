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

  // --- The figure of the exercise playing, moving with the voice --------------------------------
  // The manifest's events say what the voice is doing when: a "rep" cue brings the limb in, it
  // stays through the "hold", goes back on "release", and rests during "rest". Everything is worked
  // out from the time alone, so a seek lands on the right pose at once.
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MOVE_ROLES = { rep: "rep", hold: "hold", release: "release", direction: "direction_start" };
  const DOING = { rep: "moving", hold: "holding", release: "coming back", rest: "resting", side_start: "getting into position", side_end: "lowering" };
  const CARRY_ON = new Set(["move", "transition"]); // silences that belong to the cue before them

  function sideOf(text) {
    const m = /\b(left|right)\b/i.exec(text || "");
    return m ? m[1].toLowerCase() : null;
  }

  // The moves of one manifest: [{start, end, exercise, cue, side, direction}] and rests.
  function movesOf(events) {
    const moves = [];
    const open = {}; // exercise -> whether a "side" cue has started a side (the next one ends it)
    let side = null;
    let direction = null;
    let exercise = null;
    events.forEach((e, i) => {
      if (e.exercise !== exercise) {
        exercise = e.exercise;
        side = null;
        direction = null;
      }
      if (!e.exercise) return;
      let cue = null;
      if (e.role === "side") {
        cue = open[e.exercise] ? "side_end" : "side_start";
        open[e.exercise] = !open[e.exercise];
      } else if (e.role === "rest" || e.role === "announce") {
        cue = "rest";
      } else {
        cue = MOVE_ROLES[e.role] || null;
      }
      if (!cue) return;
      const named = sideOf(e.text);
      if (named) side = named;
      if (cue === "direction_start") direction = /counter|anti/i.test(e.text || "") ? "counter" : "clockwise";
      let end = e.end_ms;
      for (let j = i + 1; j < events.length && CARRY_ON.has(events[j].role); j += 1) end = events[j].end_ms;
      moves.push({ start: e.start_ms, end, exercise: e.exercise, cue, side, direction });
    });
    return moves;
  }

  function stepFor(data, move) {
    return data.steps.find((s) => {
      if (s.cue !== move.cue) return false;
      if (!s.direction) return true;
      const counter = /^counter|^anti/.test(s.direction);
      return move.direction === "counter" ? counter : !counter;
    });
  }

  // What the figure shows at time t (ms): {exercise, frame, pose, side, cue} or null.
  function stateAt(moves, figures, events, t) {
    const now = events.filter((e) => e.start_ms <= t).pop();
    if (!now || !now.exercise) return null;
    const data = figures[now.exercise];
    if (!data) return null;
    const mine = moves.filter((m) => m.exercise === now.exercise && m.start <= t);
    for (let k = mine.length - 1; k >= 0; k -= 1) {
      const move = mine[k];
      if (move.cue === "rest") break;
      const step = stepFor(data, move);
      if (!step) continue;
      const mirror = Boolean(data.side && move.side && move.side !== data.side);
      const frames = mirror ? step.mirrorFrames : step.frames;
      const poses = mirror ? step.mirrorPoses : step.poses;
      const p = t >= move.end ? 1 : (t - move.start) / Math.max(1, move.end - move.start);
      const at = Math.round(p * (frames.length - 1));
      const pose = poses[Math.round(p * (poses.length - 1))];
      return { exercise: now.exercise, frame: frames[at], pose, side: move.side || "", cue: step.cue, mirror };
    }
    const side = (mine.filter((m) => m.side).pop() || {}).side || "";
    const mirror = Boolean(data.side && side && side !== data.side);
    const frame = mirror ? data.restMirrorFrame : data.restFrame;
    return { exercise: now.exercise, frame, pose: data.rest, side, cue: "rest", mirror };
  }

  function el(name, attrs) {
    const node = document.createElementNS(SVG_NS, name);
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, String(v)));
    return node;
  }

  function drawFigure(art, data) {
    const [x, y, w, h] = data.box;
    const svg = el("svg", { viewBox: `${x} ${y} ${w} ${h}`, role: "img", "aria-label": `${data.name}` });
    svg.appendChild(el("polygon", { class: "fig-mat", points: data.mat.map((p) => p.join(",")).join(" ") }));
    const nodes = data.shapes.map((s) =>
      s.name === "head"
        ? el("circle", { r: s.width, class: `fig-${s.role}` })
        : el("line", { "stroke-width": s.width, class: `fig-${s.role}` }),
    );
    nodes.forEach((n) => svg.appendChild(n));
    art.replaceChildren(svg);
    return nodes;
  }

  function setUpFigure(card, audio) {
    const figure = card.querySelector("[data-figure]");
    if (!figure || !window.fetch) return;
    const art = figure.querySelector(".figure-art");
    const caption = figure.querySelector("figcaption");
    const figures = {};
    let events = [];
    let moves = [];
    let shown = null;
    let nodes = [];

    function render() {
      const state = stateAt(moves, figures, events, audio.currentTime * 1000);
      if (!state) {
        figure.hidden = true;
        figure.dataset.pose = "none";
        figure.dataset.exercise = "";
        return;
      }
      const data = figures[state.exercise];
      if (shown !== state.exercise) {
        nodes = drawFigure(art, data);
        shown = state.exercise;
      }
      state.frame.forEach((c, i) => {
        const n = nodes[i];
        const s = data.shapes[i];
        n.setAttribute("class", `fig-${state.mirror ? s.mirrorRole : s.role}`);
        if (c.length === 2) {
          n.setAttribute("cx", c[0]);
          n.setAttribute("cy", c[1]);
        } else {
          n.setAttribute("x1", c[0]);
          n.setAttribute("y1", c[1]);
          n.setAttribute("x2", c[2]);
          n.setAttribute("y2", c[3]);
        }
      });
      figure.hidden = false;
      figure.dataset.exercise = state.exercise;
      figure.dataset.pose = state.pose;
      figure.dataset.side = state.side;
      figure.dataset.cue = state.cue;
      const doing = DOING[state.cue] || "";
      caption.textContent = `${data.name}${state.side ? `, ${state.side} side` : ""}${doing ? `: ${doing}` : ""}`;
    }

    let frameRequest = 0;
    function tick() {
      render();
      frameRequest = audio.paused ? 0 : window.requestAnimationFrame(tick);
    }

    fetch(figure.dataset.manifest)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.statusText))))
      .then((manifest) => {
        events = Array.isArray(manifest.events) ? manifest.events : [];
        moves = movesOf(events);
        const ids = [...new Set(events.map((e) => e.exercise).filter(Boolean))];
        return Promise.all(
          ids.map((id) =>
            fetch(`figures/${encodeURIComponent(id)}.json`) // relative: the site may live under a path prefix
              .then((r) => (r.ok ? r.json() : null))
              .then((d) => {
                if (d) figures[id] = d;
              })
              .catch(() => {}),
          ),
        );
      })
      .then(() => {
        figure.dataset.ready = "true";
        render();
        ["seeked", "timeupdate", "pause"].forEach((name) => audio.addEventListener(name, render));
        audio.addEventListener("play", () => {
          if (!frameRequest) frameRequest = window.requestAnimationFrame(tick);
        });
      })
      .catch(() => {}); // no manifest: the page plays on, without a figure
  }

  cards.forEach((card, n) => {
    const audio = audios[n];
    if (!audio) return;
    setUpFigure(card, audio);
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
