// stretchcast's check-in: after a track ends (or from the button), a short form sent to the session
// log on the computer. The key comes in the page link's fragment (#key=...), which browsers never
// send to a server; it is kept in localStorage and taken out of the address bar at once. A check-in
// is first put in a queue in localStorage, then sent; one the computer did not answer stays queued
// and is sent when it answers again. Its id is made here, so a resend is recorded once.
"use strict";

(function () {
  const KEY = "stretchcast.key";
  const QUEUE = "stretchcast.checkins";
  const dialog = document.getElementById("checkin");
  const opener = document.querySelector("[data-checkin-open]");
  if (!dialog || !opener) return;
  const form = dialog.querySelector("form");
  const status = dialog.querySelector(".checkin-status");
  const formError = dialog.querySelector(".form-error");
  const advice = dialog.querySelector(".stop-advice");
  const pick = form.elements.namedItem("routine");
  const cards = Array.from(document.querySelectorAll("[data-routine]"));
  let sending = false;

  // The key: from the fragment into localStorage, then out of the address bar (and history).
  const match = /(?:^#|&)key=([0-9a-f]{32})(?:&|$)/.exec(window.location.hash);
  if (match) {
    localStorage.setItem(KEY, match[1]);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  function queue() {
    try {
      const items = JSON.parse(localStorage.getItem(QUEUE) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (err) {
      return [];
    }
  }

  function saveQueue(items) {
    localStorage.setItem(QUEUE, JSON.stringify(items));
    const n = items.length;
    opener.textContent = n ? `How did it go? (${n} waiting to send)` : "How did it go?";
  }

  // An id for the check-in: 128 random bits (crypto.randomUUID needs https; getRandomValues does not).
  function newId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The phone's own time with its offset (2026-12-01T18:30:05+01:00), so weeks follow its calendar.
  function localTime(date) {
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    return (
      `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
      `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
    );
  }

  function show(text) {
    status.textContent = text;
  }

  // Send what is queued, oldest first; stop at the first the computer does not take.
  async function flush() {
    if (sending) return;
    const key = localStorage.getItem(KEY);
    let items = queue();
    if (!items.length) return;
    if (!key) {
      show("Kept on this phone. To send it, open the link that stretchcast serve prints (it carries the key).");
      return;
    }
    sending = true;
    try {
      while (items.length) {
        let response;
        try {
          response = await fetch("/api/sessions", {
            method: "POST",
            headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
            body: JSON.stringify(items[0]),
            cache: "no-store",
          });
        } catch (err) {
          show("Kept on this phone: the computer is not answering. It will be sent when it does.");
          return;
        }
        if (response.status === 401) {
          show("Kept on this phone: the key is wrong. Open the link that stretchcast serve prints.");
          return;
        }
        if (response.ok || response.status === 400) {
          // 400: this check-in can never be taken as it is; keep the others moving
          if (response.status === 400) {
            const answer = await response.json().catch(() => ({}));
            show(`Not saved: ${answer.error || "the computer refused it"}`);
          } else {
            show("Saved in the log on the computer.");
          }
          const done = items[0].id;
          items = queue().filter((item) => item.id !== done);
          saveQueue(items);
        } else {
          show(`Kept on this phone: the computer answered ${response.status}. It will try again.`);
          return;
        }
      }
    } finally {
      sending = false;
    }
  }

  function open(index) {
    if (index !== undefined && index >= 0) pick.value = String(index);
    formError.hidden = true;
    advice.hidden = true;
    show("");
    if (!dialog.open) dialog.showModal();
  }

  function value(name) {
    const field = form.elements.namedItem(name);
    return field && "value" in field ? field.value : "";
  }

  function updateAdvice() {
    const warned = form.querySelectorAll("input[name=warnings]:checked").length > 0;
    const after = value("pain_after");
    advice.hidden = !(warned || (after !== "" && Number(after) >= 5));
  }

  form.addEventListener("change", updateAdvice);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const missing = [
      ["done", "whether you did it all"],
      ["pain_before", "pain before"],
      ["pain_after", "pain after"],
      ["felt", "how it felt"],
    ].filter(([name]) => value(name) === "");
    if (missing.length) {
      formError.textContent = `Please choose ${missing.map(([, label]) => label).join(", ")}.`;
      formError.hidden = false;
      return;
    }
    formError.hidden = true;
    const card = cards[Number(pick.value)] || cards[0];
    const note = value("note").trim();
    const checkin = {
      id: newId(),
      at: localTime(new Date()),
      routine: card.dataset.slug,
      routine_hash: card.dataset.hash || null,
      programme: card.dataset.programme || null,
      week: card.dataset.week ? Number(card.dataset.week) : null,
      done: value("done"),
      pain_before: Number(value("pain_before")),
      pain_after: Number(value("pain_after")),
      felt: value("felt"),
      warnings: Array.from(form.querySelectorAll("input[name=warnings]:checked"), (box) => box.value),
      note: note || null,
    };
    saveQueue([...queue(), checkin]);
    const warned = !advice.hidden;
    form.reset();
    pick.value = String(cards.indexOf(card));
    flush().then(() => {
      if (!warned && queue().length === 0) setTimeout(() => dialog.close(), 900);
    });
    advice.hidden = !warned; // keep the advice in view after saving
  });

  opener.addEventListener("click", () => open());
  dialog.querySelector("[data-checkin-close]").addEventListener("click", () => dialog.close());

  // When a track ends, ask about it.
  cards.forEach((card, n) => {
    const audio = card.querySelector("audio");
    if (audio) {
      audio.addEventListener("play", () => {
        pick.value = String(n);
      });
      audio.addEventListener("ended", () => open(n));
    }
  });

  saveQueue(queue());
  flush();
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") flush();
  });
  setInterval(() => {
    if (queue().length) flush();
  }, 30000);
})();
