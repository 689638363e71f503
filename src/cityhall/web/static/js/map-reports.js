// The public feedback map: the reports of the list's filters as clustered markers (from the
// GeoJSON endpoint), each with a link to its page; and the small map of one report's page.
// Without tiles the markers show on a blank background; without JavaScript, the list.
(function () {
  "use strict";

  function popup(props, label) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = props.category_name;
    var state = document.createElement("p");
    state.textContent = props.state_label + (props.unit_name ? " · " + props.unit_name : "");
    var text = document.createElement("p");
    text.textContent = props.summary;
    var link = document.createElement("a");
    link.href = "/phan-anh/" + encodeURIComponent(props.public_id);
    link.textContent = label + " " + props.public_id;
    box.append(title, state, text, link);
    return box;
  }

  function icon(props) {
    return window.L.divIcon({
      className: "report-pin " + (props.open ? "open" : "closed") + (props.overdue ? " overdue" : ""),
      iconSize: [22, 22],
      iconAnchor: [11, 11],
      popupAnchor: [0, -10],
      html: ""
    });
  }

  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    var outer = document.createElement("div");
    var inner = document.createElement("span");
    inner.textContent = String(n);
    outer.appendChild(inner);
    return window.L.divIcon({
      html: outer.outerHTML,
      className: "marker-cluster marker-cluster-" + size,
      iconSize: window.L.point(40, 40)
    });
  }

  function reportsMap(el) {
    var map = window.CityhallMap.create(el);
    if (!map) { return; }
    var label = el.getAttribute("data-msg-open") || "";
    var group = window.L.markerClusterGroup ? window.L.markerClusterGroup({ iconCreateFunction: clusterIcon, showCoverageOnHover: false }) : window.L.layerGroup();
    group.addTo(map);
    fetch(el.getAttribute("data-geojson"), { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (data) {
        var points = [];
        (data.features || []).forEach(function (f) {
          var c = f.geometry && f.geometry.coordinates;
          if (!c) { return; }
          var p = f.properties || {};
          var m = window.L.marker([c[1], c[0]], { icon: icon(p), title: p.category_name + " · " + p.state_label, keyboard: true });
          m.bindPopup(popup(p, label));
          group.addLayer(m);
          points.push([c[1], c[0]]);
        });
        el.setAttribute("data-markers", String(points.length));
        if (points.length) { map.fitBounds(points, { padding: [24, 24], maxZoom: 16 }); }
      })
      .catch(function () { el.setAttribute("data-markers", "0"); });
  }

  function reportMap(el) {
    var y = parseFloat(el.getAttribute("data-lat"));
    var x = parseFloat(el.getAttribute("data-long"));
    var map = window.CityhallMap.create(el, { center: [y, x], zoom: 16 });
    if (map) { window.L.marker([y, x], { keyboard: false, interactive: false }).addTo(map); }
  }

  function start() {
    if (!window.CityhallMap) { return; }
    var many = document.getElementById("reports-map");
    if (many) { reportsMap(many); }
    var one = document.getElementById("report-map");
    if (one) { reportMap(one); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
