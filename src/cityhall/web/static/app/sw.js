/* cityhall service worker: keeps the app shell on the device, never a page or personal data.

   Served at /sw.js by cityhall.web.pwa, which puts `self.CITYHALL_SW = {version, offline,
   shell}` in front of this file. The version is a hash of every static file and of the offline
   page's templates, so any deploy that changes one installs a new worker with a new cache, and
   the old cache is deleted.

   - install: precache the shell (site.css, htmx, fonts, icons, manifest, the offline page);
   - pages (navigations): network first, nothing stored; no network -> the offline page;
   - /static/: cache first (a miss is fetched and kept in the versioned cache);
   - everything else (/api/, POSTs, htmx fragments, /docs): the network, untouched. */
"use strict";

const { version: VERSION, offline: OFFLINE, shell: SHELL } = self.CITYHALL_SW;
const PREFIX = "cityhall-shell-";
const CACHE = PREFIX + VERSION;
const SHELL_PATHS = new Set(SHELL);

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // "reload": bypass the HTTP cache; "omit": the shell is the same for everyone.
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload", credentials: "omit" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith("/static/") || SHELL_PATHS.has(url.pathname)) {
    event.respondWith(asset(request));
  }
});

async function page(event) {
  try {
    const preloaded = await event.preloadResponse;
    return preloaded || (await fetch(event.request));
  } catch (error) {
    const cache = await caches.open(CACHE);
    return (await cache.match(OFFLINE)) || Response.error();
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === "basic" && new URL(request.url).pathname.startsWith("/static/")) {
    await cache.put(request, response.clone());
  }
  return response;
}
