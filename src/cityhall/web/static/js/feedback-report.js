// The report form, enhanced: filter the categories as one types (with or without
// diacritics); each photo is previewed, checked (type, size, count) and sent as soon as it is
// chosen (XHR), so several camera shots add up and none is lost on an error; the nearby
// open reports of the same category are fetched whenever the category or the point changes.
// Without JavaScript the same form works: buttons reload it with the questions, the files go
// with the form.
(function () {
  "use strict";

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function msg(form, key) { return form.getAttribute("data-msg-" + key) || ""; }

  function filterCategories(select, query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    select.querySelectorAll("optgroup").forEach(function (group) {
      var any = false;
      group.querySelectorAll("option").forEach(function (option) {
        var hay = fold(option.getAttribute("data-search") || option.textContent);
        var show = words.every(function (w) { return hay.indexOf(w) >= 0; });
        option.hidden = !show;
        any = any || show;
      });
      group.hidden = !any;
    });
  }

  function refreshNearby(form) {
    var box = document.getElementById("nearby");
    var category = form.querySelector("#category_code");
    var lat = form.querySelector("#lat");
    var long = form.querySelector("#long");
    if (!box || !category || !lat || !long) { return; }
    if (!category.value || !lat.value || !long.value) { box.innerHTML = ""; return; }
    var url = box.getAttribute("data-url") + "?" + new URLSearchParams({ category_code: category.value, lat: lat.value, long: long.value });
    fetch(url, { headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* the hint is optional */ });
  }

  function photos(form) {
    var input = form.querySelector("#photos");
    var list = form.querySelector("#photo-list");
    var status = form.querySelector("#photos-status");
    if (!input || !list || !window.FormData) { return; }
    var maxBytes = Number(form.getAttribute("data-max-bytes")) || 0;
    var maxCount = Number(form.getAttribute("data-max-photos")) || 6;
    var pending = 0;

    function count() { return list.querySelectorAll("li").length; }

    function say(text, bad) {
      status.textContent = text;
      if (bad) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }

    function removable(li) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link remove";
      button.textContent = msg(form, "remove");
      button.addEventListener("click", function () { li.remove(); input.focus(); });
      li.appendChild(button);
    }

    list.querySelectorAll("li.kept").forEach(removable);

    function send(file) {
      var li = document.createElement("li");
      li.className = "photo sending";
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.width = 120; img.height = 90;
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      li.append(img, name, bar);
      list.appendChild(li);
      pending += 1;
      say(msg(form, "sending"), false);
      var data = new FormData();
      data.append("file", file);
      var xhr = new XMLHttpRequest();
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
      });
      xhr.addEventListener("loadend", function () {
        pending -= 1;
        var body = {};
        try { body = JSON.parse(xhr.responseText || "{}"); } catch (err) { body = {}; }
        bar.remove();
        if (xhr.status === 200 && body.sha256) {
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = "photo_sha"; hidden.value = body.sha256;
          li.appendChild(hidden);
          li.className = "photo";
          removable(li);
          say(pending ? msg(form, "sending") : "", false);
        } else {
          li.remove();
          say((body.error || msg(form, "failed")) + " (" + file.name + ")", true);
        }
      });
      xhr.open("POST", form.getAttribute("data-upload-url"));
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf") || "");
      xhr.send(data);
    }

    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      var problem = "";
      files.forEach(function (file) {
        if (!/^image\//.test(file.type)) { problem = msg(form, "type") + " (" + file.name + ")"; return; }
        if (maxBytes && file.size > maxBytes) { problem = msg(form, "size") + " (" + file.name + ")"; return; }
        if (count() >= maxCount) { problem = msg(form, "count"); return; }
        send(file);
      });
      input.value = ""; // sent already: not again with the form
      if (problem) { say(problem, true); }
    });

    form.addEventListener("submit", function (event) {
      if (pending > 0 && !(event.submitter && event.submitter.hasAttribute("formnovalidate"))) {
        event.preventDefault();
        say(msg(form, "wait"), true);
      }
    });
  }

  function start() {
    document.documentElement.classList.add("js");
    var form = document.getElementById("report-form");
    if (!form) { return; }
    var q = form.querySelector("#q");
    var select = form.querySelector("#category_code");
    if (q && select) {
      q.addEventListener("input", function () { filterCategories(select, q.value); });
      q.addEventListener("keydown", function (e) {
        if (e.key === "Enter") {
          e.preventDefault();
          var first = select.querySelector("option:not([hidden]):not([value=''])");
          if (first) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); select.focus(); }
        }
      });
      if (q.value) { filterCategories(select, q.value); }
      select.addEventListener("change", function () { refreshNearby(form); });
    }
    ["#lat", "#long"].forEach(function (sel) {
      var el = form.querySelector(sel);
      if (el) { el.addEventListener("change", function () { refreshNearby(form); }); }
    });
    photos(form);
    var errors = document.getElementById("form-errors");
    if (errors) { errors.focus(); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
