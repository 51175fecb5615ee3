// The mapper editor: every change posts the form and swaps in the server's new form and rows.
// No library: the server renders the HTML (the same template as without JavaScript), this file
// only avoids reloading the page. Saving is a normal form submission.
(function () {
  "use strict";
  function start() {
    var form = document.getElementById("mapper-editor");
    if (!form) { return; }
    var timer = null;
    var pending = null;

    function refresh(action) {
      var data = new FormData(form);
      data.set("action", action || "preview");
      if (pending) { pending.abort(); }
      pending = new AbortController();
      form.classList.add("busy");
      fetch(form.dataset.fragmentUrl, {
        method: "POST",
        body: data,
        headers: {"X-Mapper-Editor": "fragment"},
        credentials: "same-origin",
        signal: pending.signal
      }).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      }).then(function (html) {
        var focused = document.activeElement && document.activeElement.name;
        form.innerHTML = html;
        form.classList.remove("busy");
        form.dataset.version = String(Number(form.dataset.version || 0) + 1);
        if (focused) {
          var again = form.querySelector('[name="' + CSS.escape(focused) + '"]');
          if (again) { again.focus(); }
        }
      }).catch(function (error) {
        if (error.name !== "AbortError") { form.classList.remove("busy"); }
      });
    }

    form.addEventListener("change", function (event) {
      if (event.target.name === "profile_json") { return; }  // applied with its own button
      clearTimeout(timer);
      timer = setTimeout(function () { refresh("preview"); }, 150);
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[name=action]");
      if (!button || button.value === "save") { return; }  // saving submits the page
      event.preventDefault();
      refresh(button.value);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
