// Shared by the feedback maps: a Leaflet map that works without tiles. When no tile URL is
// configured, or the tile server cannot be reached (no network), the map keeps working on a
// blank background and says so once. Loaded before map-picker.js / map-reports.js.
(function () {
  "use strict";
  var CITY = [10.7769, 106.7009]; // Ho Chi Minh City centre

  function notice(el, text) {
    var box = document.getElementById(el.id + "-notice");
    if (box && text) { box.textContent = text; box.hidden = false; }
  }

  window.CityhallMap = {
    CITY: CITY,
    create: function (el, options) {
      if (!window.L) { return null; }
      el.hidden = false;
      window.L.Icon.Default.prototype.options.imagePath = "/static/vendor/leaflet/images/";
      var map = window.L.map(el, Object.assign({ center: CITY, zoom: 12, scrollWheelZoom: false }, options || {}));
      var tiles = el.getAttribute("data-tiles") || "";
      var message = el.getAttribute("data-msg-notiles") || "";
      if (!tiles) {
        el.classList.add("no-tiles");
        notice(el, message);
      } else {
        var layer = window.L.tileLayer(tiles, {
          maxZoom: 19,
          attribution: el.getAttribute("data-attribution") || ""
        });
        var warned = false;
        layer.on("tileerror", function () {
          if (warned) { return; }
          warned = true;
          el.classList.add("no-tiles");
          notice(el, message);
        });
        layer.addTo(map);
      }
      return map;
    }
  };
})();
