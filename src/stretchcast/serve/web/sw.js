// stretchcast's service worker: once the page has been opened, it opens again without the server,
// with its covers, captions and manifests (network first, the last copy when the network fails).
// Tracks saved with "Save for offline" (the page stores the whole MP3 in AUDIO) are played from
// that copy, network or not: a player's Range request is answered by slicing the saved file.
// Every path is relative to this script, so the same worker serves a site published under a prefix.
"use strict";

const CACHE = "stretchcast-shell-v3";
const AUDIO = "stretchcast-audio-v1"; // written by app.js; never emptied here
const SHELL = ["./", "static/app.css", "static/app.js", "static/icon.svg"];
// The check-in's files are kept as they are fetched (a server without a log has none to give).

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k !== CACHE && k !== AUDIO).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

// The saved whole file, or the part a Range header asks for (RFC 9110: one range, 206 with
// Content-Range; past the end, 416; a header that does not parse, the whole file).
async function fromSaved(saved, range) {
  if (!range) return saved;
  const blob = await saved.blob();
  const size = blob.size;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!match || (match[1] === "" && match[2] === "")) {
    return new Response(blob, { status: 200, headers: saved.headers });
  }
  let start;
  let end;
  if (match[1] === "") {
    start = Math.max(size - Number(match[2]), 0);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  }
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    statusText: "Partial Content",
    headers: {
      "Content-Type": saved.headers.get("Content-Type") || "audio/mpeg",
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The session log is never kept here: it is private, and only the server's answer counts.
  if (url.pathname.includes("/api/")) return;
  if (url.pathname.endsWith(".mp3")) {
    // The page saving a track (again, after a rebuild) asks with cache "no-store": the server's copy.
    if (request.cache === "no-store") return;
    // A saved track plays from its copy; any other streams from the server as it always did.
    event.respondWith(
      caches
        .open(AUDIO)
        .then((cache) => cache.match(url.origin + url.pathname))
        .then((saved) => (saved ? fromSaved(saved, request.headers.get("range")) : fetch(request))),
    );
    return;
  }
  if (request.headers.has("range")) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      })
      .catch(() =>
        caches.match(request, { ignoreSearch: true }).then((hit) => hit || Response.error()),
      ),
  );
});
