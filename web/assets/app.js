// preserve's web application: the only script. Every page works without it;
// it adds upload progress to forms marked data-progress (a large hand-in
// then shows how far it has come), and nothing else. No framework, nothing
// loaded from elsewhere.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) return;  // the form posts as usual
      event.preventDefault();
      var bar = document.getElementById(form.getAttribute("data-progress"));
      if (bar) { bar.hidden = false; bar.value = 0; }
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (e) {
        if (bar && e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total);
      });
      request.addEventListener("load", function () {
        // The answer is a whole page: show it as the browser would have.
        document.open();
        document.write(request.responseText);
        document.close();
        history.replaceState(null, "", request.responseURL || form.action);
      });
      request.addEventListener("error", function () {
        buttons.forEach(function (b) { b.disabled = false; });
        if (bar) bar.hidden = true;
        var message = form.getAttribute("data-error") || "Upload failed";
        window.alert(message);
      });
      request.send(new FormData(form));
    });
  });
});
