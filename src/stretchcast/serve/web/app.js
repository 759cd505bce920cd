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
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
})();
