// OTOP Mobile service worker: keeps the application's files so that it opens, and reloads, without a
// network (the market's poor signal). Sales themselves wait in IndexedDB (src/lib/salesQueue.ts) and are
// sent by the page when the network is back; API answers are never cached here.
const CACHE = "otop-shell-__VERSION__";
const SHELL = __SHELL__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/auth/")) return;  // always the network
  if (event.request.mode === "navigate") {
    // The page: fresh when online, the kept one when not.
    event.respondWith(fetch(event.request).catch(() => caches.match("/", { cacheName: CACHE })));
    return;
  }
  event.respondWith(caches.match(event.request, { cacheName: CACHE }).then((kept) => kept || fetch(event.request)));
});
