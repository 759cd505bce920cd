// stretchcast's service worker: once the page has been opened, it opens again without the server,
// with its covers, captions and manifests (network first, the last copy when the network fails).
// Audio is not kept here: it streams from the server with Range requests; for listening away from
// the computer, use the Download buttons or the podcast feed.
"use strict";

const CACHE = "stretchcast-shell-v2";
const SHELL = ["/", "/static/app.css", "/static/app.js", "/static/icon.svg"];
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
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The session log is never kept here: it is private, and only the server's answer counts.
  if (url.pathname.startsWith("/api/")) return;
  // Media goes straight to the server: partial responses cannot be cached and replayed as they are.
  if (request.headers.has("range") || url.pathname.endsWith(".mp3")) return;
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
