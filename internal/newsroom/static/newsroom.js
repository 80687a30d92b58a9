// The editor's live preview and image upload. Both work without this
// script too: the Preview button renders on the server, and the form
// sends the chosen image with the article.
(function () {
  "use strict";
  var form = document.getElementById("article-form");
  if (!form) return;
  var body = document.getElementById("f-body");
  var preview = document.getElementById("preview");
  var timer = null;
  var seq = 0;

  function format() {
    var checked = form.querySelector("input[name=format]:checked");
    return checked ? checked.value : "markdown";
  }

  // The server renders and sanitizes: the preview is exactly what readers
  // will get, and no editor's paste runs as script here either.
  function refresh() {
    var mine = ++seq;
    var data = new URLSearchParams();
    data.set("body", body.value);
    data.set("format", format());
    fetch("/newsroom/preview", { method: "POST", body: data, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) { if (mine === seq) preview.innerHTML = html; })
      .catch(function () {});
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }
  body.addEventListener("input", later);
  form.querySelectorAll("input[name=format]").forEach(function (r) { r.addEventListener("change", refresh); });

  var file = document.getElementById("f-image-file");
  var imageID = document.getElementById("f-image");
  var img = document.getElementById("image-preview");
  if (file && imageID && img) {
    file.addEventListener("change", function () {
      if (!file.files || !file.files[0]) return;
      var data = new FormData();
      data.append("file", file.files[0]);
      fetch("/newsroom/images", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (res) { return res.json().then(function (j) { return { ok: res.ok, j: j }; }); })
        .then(function (r) {
          if (!r.ok) return;
          imageID.value = r.j.id;
          img.src = r.j.url;
          img.srcset = r.j.srcset;
          img.sizes = "20rem";
          img.hidden = false;
          file.value = ""; // uploaded: the form need not send it again
        })
        .catch(function () {});
    });
  }
})();
