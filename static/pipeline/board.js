// The incident board, kept current over the websocket (/ws/events/, authenticated by the
// session cookie: the browser sends it, and Origin equals Host). Every
// "pipeline.incident.updated" event carries the incident's summary: its row is replaced
// in place, a new incident is inserted by opening time (newest first), a closed one is
// removed, and the changed row flashes. After a lost connection the rows are reloaded
// from the server, since events sent meanwhile are not replayed. Handlers see an
// Acknowledge button on open incidents; it posts to the page's action, and the row
// changes when the incident's event comes back.
(function () {
  "use strict";

  var EVENT_TYPE = "pipeline.incident.updated";
  var CLOSE_UNAUTHENTICATED = 4401;
  var MAX_DELAY_MS = 30000;

  var table = document.getElementById("incident-board");
  if (!table) { return; }
  var tbody = document.getElementById("incident-rows");
  var empty = document.getElementById("incident-board-empty");
  var state = document.getElementById("board-connection");
  var zonesElement = document.getElementById("incident-board-zones");
  var zoneIds = zonesElement ? JSON.parse(zonesElement.textContent) : null;
  var visibleZones = zoneIds === null ? null : new Set(zoneIds);
  var detailUrl = table.dataset.detailUrl;
  var acknowledgeUrl = table.dataset.acknowledgeUrl;
  var canHandle = table.dataset.canHandle === "1";
  var message = document.getElementById("incident-board-message");
  var csrfInput = document.querySelector("#incident-board-csrf [name=csrfmiddlewaretoken]");
  var placeholder = "00000000-0000-0000-0000-000000000000";

  var socket = null;
  var delay = 1000;
  var everOpened = false;

  function showState(name, text) {
    state.dataset.state = name;
    state.textContent = text;
  }

  function refreshEmpty() {
    empty.hidden = tbody.rows.length > 0;
  }

  function pad(number) { return number < 10 ? "0" + number : String(number); }

  function openedLabel(iso) {
    var at = new Date(iso);
    if (isNaN(at.getTime())) { return iso; }
    return at.getUTCFullYear() + "-" + pad(at.getUTCMonth() + 1) + "-" + pad(at.getUTCDate()) +
      " " + pad(at.getUTCHours()) + ":" + pad(at.getUTCMinutes());
  }

  function cell(field) {
    var td = document.createElement("td");
    td.dataset.field = field;
    return td;
  }

  function badge(kind, value, text) {
    var span = document.createElement("span");
    span.className = "badge " + kind + "-" + value;
    span.textContent = text;
    return span;
  }

  function buildRow(incident) {
    var row = document.createElement("tr");
    row.id = "incident-" + incident.id;
    row.dataset.id = incident.id;
    row.dataset.status = incident.status;
    row.dataset.severity = incident.severity;
    row.dataset.openedAt = incident.opened_at;
    row.dataset.updatedAt = incident.updated_at || "";

    var number = cell("number");
    var link = document.createElement("a");
    link.href = detailUrl.replace(placeholder, incident.id);
    link.textContent = incident.number;
    number.appendChild(link);
    row.appendChild(number);

    var title = cell("title");
    title.textContent = incident.title;
    row.appendChild(title);

    var severity = cell("severity");
    severity.appendChild(badge("severity", incident.severity, incident.severity));
    row.appendChild(severity);

    var status = cell("status");
    status.appendChild(badge("status", incident.status, incident.status.replace(/_/g, " ")));
    row.appendChild(status);

    var zone = cell("zone");
    zone.textContent = incident.zone ? incident.zone.code + " " + incident.zone.name : "—";
    row.appendChild(zone);

    var asset = cell("asset");
    asset.textContent = incident.asset ? incident.asset.code : "—";
    row.appendChild(asset);

    var team = cell("team");
    team.textContent = incident.assigned_team ? incident.assigned_team.name : "—";
    row.appendChild(team);

    var escalation = cell("escalation");
    escalation.textContent = String(incident.escalation_level);
    row.appendChild(escalation);

    var opened = cell("opened");
    var time = document.createElement("time");
    time.dateTime = incident.opened_at;
    time.textContent = openedLabel(incident.opened_at);
    opened.appendChild(time);
    row.appendChild(opened);

    if (canHandle) {
      var actions = cell("actions");
      if (incident.status === "open") {
        var form = document.createElement("form");
        form.method = "post";
        form.className = "acknowledge";
        form.action = acknowledgeUrl.replace(placeholder, incident.id);
        var token = document.createElement("input");
        token.type = "hidden";
        token.name = "csrfmiddlewaretoken";
        token.value = csrfInput ? csrfInput.value : "";
        form.appendChild(token);
        var next = document.createElement("input");
        next.type = "hidden";
        next.name = "next";
        next.value = table.dataset.boardUrl;
        form.appendChild(next);
        var button = document.createElement("button");
        button.type = "submit";
        button.textContent = "Acknowledge";
        form.appendChild(button);
        actions.appendChild(form);
      }
      row.appendChild(actions);
    }
    return row;
  }

  function flash(row) {
    row.classList.remove("flash");
    // Reading offsetWidth restarts the animation of a row that changes twice in a row.
    void row.offsetWidth;
    row.classList.add("flash");
  }

  function insertByOpening(row) {
    var opened = new Date(row.dataset.openedAt).getTime();
    for (var i = 0; i < tbody.rows.length; i += 1) {
      if (new Date(tbody.rows[i].dataset.openedAt).getTime() <= opened) {
        tbody.insertBefore(row, tbody.rows[i]);
        return;
      }
    }
    tbody.appendChild(row);
  }

  // A row reloaded after a reconnect may already be newer than an event still on its way.
  function isStale(row, incident) {
    var shown = new Date(row.dataset.updatedAt).getTime();
    var incoming = new Date(incident.updated_at).getTime();
    return !isNaN(shown) && !isNaN(incoming) && incoming < shown;
  }

  function apply(incident) {
    if (!incident || !incident.id) { return; }
    var existing = document.getElementById("incident-" + incident.id);
    if (existing && isStale(existing, incident)) { return; }
    var hidden = visibleZones !== null && !(incident.zone && visibleZones.has(incident.zone.id));
    if (incident.status === "closed" || hidden) {
      if (existing) { existing.remove(); }
      refreshEmpty();
      return;
    }
    var row = buildRow(incident);
    if (existing) {
      existing.replaceWith(row);
    } else {
      insertByOpening(row);
    }
    flash(row);
    refreshEmpty();
  }

  function reloadRows() {
    fetch(table.dataset.rowsUrl, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        tbody.innerHTML = html;
        refreshEmpty();
      })
      .catch(function () {
        showState("reconnecting", "Live again, but the list could not be reloaded; reload the page.");
      });
  }

  tbody.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("acknowledge")) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    message.textContent = "";
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value
      }
    }).then(function (response) {
      if (response.ok) {
        // The event brings the new row; without a live connection, reload the rows.
        if (!socket || socket.readyState !== WebSocket.OPEN) { reloadRows(); }
        return null;
      }
      return response.json().then(function (body) {
        button.disabled = false;
        message.textContent = body && body.error ? body.error.message : "Not acknowledged.";
      });
    }).catch(function () {
      button.disabled = false;
      message.textContent = "Could not reach the server; try again.";
    });
  });

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/events/");
    socket.addEventListener("open", function () {
      delay = 1000;
      showState("open", "Live");
      if (everOpened) { reloadRows(); }
      everOpened = true;
    });
    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event && event.type === EVENT_TYPE) { apply(event.payload); }
    });
    socket.addEventListener("close", function (closed) {
      socket = null;
      if (closed.code === CLOSE_UNAUTHENTICATED) {
        showState("closed", "Signed out: reload the page to sign in again.");
        return;
      }
      showState("reconnecting", "Connection lost, reconnecting…");
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    });
  }

  refreshEmpty();
  connect();
})();
