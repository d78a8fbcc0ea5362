"use strict";
// Minimal page: shows that the server is reachable over WebSocket.
(function () {
  const status = document.getElementById("status");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(scheme + "//" + location.host + "/ws");
  ws.addEventListener("open", () => { status.textContent = "Connected."; });
  ws.addEventListener("close", () => { status.textContent = "Disconnected."; });
})();
