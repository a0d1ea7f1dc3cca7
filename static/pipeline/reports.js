// The pipeline reports page: its runs are made in the background. When a job of the
// signed-in user changes ("job.updated" over /ws/events/, session cookie), the list of
// runs is reloaded from the server, which also signs fresh download links.
(function () {
  "use strict";

  var container = document.getElementById("report-runs");
  var state = document.getElementById("reports-connection");
  if (!container) { return; }
  var delay = 1000;

  function reload() {
    fetch(container.dataset.url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { container.innerHTML = html; } })
      .catch(function () { /* the next event or a page reload tries again */ });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/events/");
    socket.addEventListener("open", function () {
      delay = 1000;
      state.dataset.state = "open";
      state.textContent = "Live";
      reload();
    });
    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event && event.type === "job.updated" && event.payload && event.payload.kind === "report") {
        reload();
      }
    });
    socket.addEventListener("close", function (closed) {
      if (closed.code === 4401) {
        state.dataset.state = "closed";
        state.textContent = "Signed out: reload the page.";
        return;
      }
      state.dataset.state = "reconnecting";
      state.textContent = "Reconnecting…";
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  connect();
})();
