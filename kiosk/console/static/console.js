// The floor, live. The server draws every tile and alert (escaped); this only swaps them in, tells the
// server which alerts a signed-in screen shows, answers "On my way", and sounds new alerts.
"use strict";
(() => {
  // A printable page (a member's card): its print button, here because the CSP allows no inline script.
  for (const button of document.querySelectorAll("[data-print]")) button.addEventListener("click", () => window.print());
  const meta = document.querySelector('meta[name="csrf-token"]');
  const alertsBox = document.getElementById("alerts");
  const tilesBox = document.getElementById("tiles");
  if (!meta || !alertsBox || !tilesBox) return;
  const csrf = meta.content;
  const liveState = document.getElementById("live-state");
  const soundButton = document.getElementById("sound-on");
  const sound = new Audio("/sound/alert.wav");
  const REPEAT_PAIN_MS = 30000;
  const known = new Set();
  const seenSent = new Set();
  let soundOn = false;

  const post = (url) => fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });

  let lastPlayed = -Infinity;

  function play() {
    if (!soundOn) return;
    lastPlayed = Date.now();
    sound.currentTime = 0;
    sound.play().catch(() => {});
  }

  // Browsers play sound only after the user has touched the page: the first touch or key turns it on.
  function unlock() {
    if (soundOn) return;
    soundOn = true;
    soundButton.setAttribute("aria-pressed", "true");
    soundButton.textContent = "Alert sound on";
    if (alertsBox.querySelector('[role="alert"]')) play();
  }
  document.addEventListener("pointerdown", unlock, { once: true });
  document.addEventListener("keydown", unlock, { once: true });
  soundButton.addEventListener("click", unlock);

  function ago(ts) {
    const s = Math.max(0, Math.round(Date.now() / 1000 - ts));
    return s < 60 ? `${s} s ago` : `${Math.floor(s / 60)} min ago`;
  }
  function tick() {
    for (const t of alertsBox.querySelectorAll("time[data-ts]")) t.textContent = ago(Number(t.dataset.ts));
  }

  function alertsDrawn() {
    let fresh = false;
    for (const el of alertsBox.querySelectorAll("[data-alert]")) {
      const id = el.dataset.alert;
      if (!known.has(id)) { known.add(id); fresh = true; }
      // On a signed-in screen now: the member may be told that staff know (once per alert).
      if (el.dataset.kind === "pain" && !seenSent.has(id)) { seenSent.add(id); post(`/alerts/${id}/seen`); }
    }
    tick();
    if (fresh) play();
  }

  alertsBox.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-answer]");
    if (!button) return;
    button.disabled = true;
    const response = await post(`/alerts/${button.dataset.answer}/answer`);
    if (!response.ok) {
      button.disabled = false;
      const body = await response.json().catch(() => ({}));
      liveState.textContent = body.error || `The console answered ${response.status}`;
    }
  });

  function placeTile(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const tile = template.content.firstElementChild;
    const old = document.getElementById(tile.id);
    if (old) { old.replaceWith(tile); return; }
    const after = [...tilesBox.children].find((t) => t.dataset.machine > tile.dataset.machine);
    tilesBox.insertBefore(tile, after || null);
  }

  const live = new EventSource("/live");
  live.addEventListener("open", () => { liveState.textContent = "Live"; });
  live.addEventListener("error", () => { liveState.textContent = "Reconnecting…"; });
  live.addEventListener("floor", (event) => {
    const update = JSON.parse(event.data);
    for (const html of Object.values(update.tiles)) placeTile(html);
    if (update.alerts !== undefined) { alertsBox.innerHTML = update.alerts; alertsDrawn(); }
  });

  alertsDrawn();
  setInterval(tick, 1000);
  // Unanswered pain sounds again 30 s after the last sound, whenever the page was opened.
  setInterval(() => {
    if (alertsBox.querySelector('[data-kind="pain"]') && Date.now() - lastPlayed >= REPEAT_PAIN_MS) play();
  }, 1000);
})();
