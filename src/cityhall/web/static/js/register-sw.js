// Registers the service worker (installable app, offline page). An external file because the
// Content-Security-Policy allows no inline script. Without it the site works the same, only
// not offline.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  });
}
