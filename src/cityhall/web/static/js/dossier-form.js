// Uploads with progress for the dossier forms. Without JavaScript the files simply go with
// the form; with it, each file is sent as soon as it is chosen (XHR, so progress shows),
// and the form then carries only the file's SHA-256 in a hidden field.
(function () {
  "use strict";

  function text(form, key, fallback) {
    return form.getAttribute("data-msg-" + key) || fallback;
  }

  function upload(form, input) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    var box = input.closest(".doc");
    var bar = box.querySelector("progress");
    var status = box.querySelector(".status");
    var xhr = new XMLHttpRequest();
    var data = new FormData();
    data.append("file", file);
    form.setAttribute("data-uploading", String(Number(form.getAttribute("data-uploading") || 0) + 1));
    bar.hidden = false; bar.value = 0;
    status.textContent = text(form, "sending", "Đang tải lên…");
    input.removeAttribute("aria-invalid");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
    });
    xhr.addEventListener("loadend", function () {
      form.setAttribute("data-uploading", String(Number(form.getAttribute("data-uploading")) - 1));
      var body = {};
      try { body = JSON.parse(xhr.responseText || "{}"); } catch (err) { body = {}; }
      if (xhr.status === 200 && body.sha256) {
        var hidden = form.querySelector('input[type="hidden"][name="' + input.name + '_sha256"]');
        if (!hidden) {
          hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = input.name + "_sha256";
          box.appendChild(hidden);
        }
        hidden.value = body.sha256;
        bar.value = 100;
        status.textContent = text(form, "done", "Đã tải lên:") + " " + body.filename;
        input.value = "";
      } else {
        bar.hidden = true;
        input.setAttribute("aria-invalid", "true");
        status.textContent = body.error || text(form, "failed", "Không tải lên được tệp. Vui lòng thử lại.");
      }
    });
    xhr.open("POST", form.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf") || "");
    xhr.send(data);
  }

  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") { return; }
    var form = input.form;
    if (form && form.hasAttribute("data-upload-url")) { upload(form, input); }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.getAttribute && Number(form.getAttribute("data-uploading") || 0) > 0) {
      e.preventDefault();
      window.alert(text(form, "wait", "Vui lòng chờ tải tệp xong."));
    }
  });

  var errors = document.getElementById("form-errors");
  if (errors) { errors.focus(); }
})();
