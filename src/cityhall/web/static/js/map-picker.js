// The report form's location: tap the map (or drag the marker) or use the phone's GPS; the
// point goes into the latitude/longitude fields, which stay editable (and are all there is
// without JavaScript, beside the typed address).
(function () {
  "use strict";

  function fire(input) { input.dispatchEvent(new Event("change", { bubbles: true })); }

  function start() {
    var el = document.getElementById("picker");
    var lat = document.getElementById("lat");
    var long = document.getElementById("long");
    if (!el || !lat || !long) { return; }
    document.querySelectorAll(".js-only").forEach(function (node) { node.hidden = false; });
    var map = window.CityhallMap && window.CityhallMap.create(el, { scrollWheelZoom: true });
    var marker = null;

    function place(latlng, pan) {
      if (!map) { return; }
      if (!marker) {
        marker = window.L.marker(latlng, { draggable: true, title: el.getAttribute("data-msg-marker") || "", alt: el.getAttribute("data-msg-marker") || "" }).addTo(map);
        marker.on("dragend", function () { write(marker.getLatLng()); });
      } else {
        marker.setLatLng(latlng);
      }
      if (pan) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
    }

    function write(latlng) {
      lat.value = latlng.lat.toFixed(6);
      long.value = latlng.lng.toFixed(6);
      fire(lat);
    }

    function readInputs() {
      var y = parseFloat(lat.value.replace(",", "."));
      var x = parseFloat(long.value.replace(",", "."));
      if (isFinite(y) && isFinite(x)) { place([y, x], true); }
    }

    if (map) {
      map.on("click", function (e) { place(e.latlng, false); write(e.latlng); });
      readInputs();
    }
    lat.addEventListener("input", readInputs);
    long.addEventListener("input", readInputs);

    var gps = document.getElementById("gps");
    var status = document.getElementById("picker-notice");
    if (gps) {
      if (!navigator.geolocation) { gps.hidden = true; return; }
      gps.addEventListener("click", function () {
        if (status) { status.hidden = false; status.textContent = gps.getAttribute("data-msg-wait"); }
        navigator.geolocation.getCurrentPosition(function (pos) {
          var latlng = window.L ? window.L.latLng(pos.coords.latitude, pos.coords.longitude) : { lat: pos.coords.latitude, lng: pos.coords.longitude };
          place(latlng, true);
          write(latlng);
          if (status) { status.textContent = gps.getAttribute("data-msg-ok"); }
        }, function () {
          if (status) { status.textContent = gps.getAttribute("data-msg-denied"); }
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
