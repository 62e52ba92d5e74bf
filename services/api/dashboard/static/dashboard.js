// The dashboard's live part: replaced by the server's fresh HTML when it changes, over
// server-sent events (EventSource reconnects by itself). Durations tick every second.
"use strict";

// The same words as the server's duration filter (services/api/dashboard/pages.py).
function formatSince(ms) {
  const seconds = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours) {
    return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  }
  return seconds >= 60 ? `${minutes} min` : "under 1 min";
}

function tick() {
  for (const el of document.querySelectorAll("[data-since-ms]")) {
    el.textContent = formatSince(Number(el.dataset.sinceMs));
  }
}

function connect(container) {
  const status = document.getElementById("live-status");
  const say = (text, cls) => {
    if (status) {
      status.textContent = text;
      status.className = "status " + cls;
    }
  };
  const source = new EventSource(container.dataset.live);
  source.onopen = () => say("live", "on");
  source.onerror = () => say("reconnecting…", "off");
  source.addEventListener("update", (event) => {
    container.innerHTML = JSON.parse(event.data).html;
    container.dataset.updates = String(Number(container.dataset.updates || 0) + 1);
    tick();
  });
  source.addEventListener("signed_out", () => {
    source.close();
    window.location.reload();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("live");
  if (container) {
    connect(container);
  }
  setInterval(tick, 1000);
});
