/// The web app's one script. Every page works without it; it adds search as you type (the
/// results region is `aria-live`), and the warning a minute before an idle session ends.
enum Script {
    static let text = #"""
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-search]");
  if (form) {
    var input = form.querySelector("input[name=q]");
    var results = document.getElementById(form.getAttribute("data-live-search"));
    var timer = null, latest = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim(), asked = ++latest;
        if (q.length === 0) { return; }
        fetch(form.getAttribute("action") + "?partial=1&q=" + encodeURIComponent(q), { credentials: "same-origin", redirect: "manual" })
          .then(function (response) {
            // A redirect is the session's end: go where it leads instead of showing it here.
            if (response.type === "opaqueredirect") { window.location.reload(); return null; }
            return response.ok ? response.text() : null;
          })
          .then(function (html) {
            if (html !== null && asked === latest) {
              results.innerHTML = html;
              history.replaceState(null, "", form.getAttribute("action") + "?q=" + encodeURIComponent(q));
            }
          });
      }, 200);
    });
  }

  // Live progress (the console's provisioning steps): the region reloads itself every second
  // until the page it fetches says it is final.
  var live = document.querySelector("[data-refresh]");
  if (live) {
    var poll = setInterval(function () {
      fetch(live.getAttribute("data-refresh"), { credentials: "same-origin", redirect: "manual" })
        .then(function (response) {
          if (response.type === "opaqueredirect") { clearInterval(poll); window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null) { clearInterval(poll); return; }
          live.innerHTML = html;
          if (live.querySelector("[data-final]")) { clearInterval(poll); }
        });
    }, 1000);
  }

  var print = document.querySelector("[data-print]");
  if (print) { print.addEventListener("click", function () { window.print(); }); }

  var home = document.body.getAttribute("data-home") || "/app";
  var idle = parseInt(document.body.getAttribute("data-idle-seconds") || "0", 10);
  var warning = document.getElementById("idle-warning");
  if (idle > 60 && warning) {
    var warnTimer, endTimer;
    var arm = function () {
      clearTimeout(warnTimer); clearTimeout(endTimer);
      warning.hidden = true;
      warnTimer = setTimeout(function () { warning.hidden = false; warning.querySelector("button").focus(); }, (idle - 60) * 1000);
      endTimer = setTimeout(function () { window.location.assign(home + "/sign-in?expired=1"); }, idle * 1000);
    };
    warning.querySelector("button").addEventListener("click", function () {
      fetch(home + "/session", { credentials: "same-origin", redirect: "manual" }).then(function (response) {
        if (response.ok) { arm(); } else { window.location.assign(home + "/sign-in?expired=1"); }
      });
    });
    arm();
  }
})();
"""#
}
