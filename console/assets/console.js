// Small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a[data-back]")) {
    if (history.length > 1) {
      link.addEventListener("click", (e) => { e.preventDefault(); history.back(); });
    }
  }
});

// Live countdowns to deadlines: "2 h 05 min", or the late text once past.
function countdown(el) {
  const due = Date.parse(el.dataset.due);
  if (Number.isNaN(due)) return;
  const left = Math.round((due - Date.now()) / 60000);
  if (left < 0) { el.textContent = el.dataset.late; el.classList.add("late"); return; }
  const h = Math.floor(left / 60), m = left % 60;
  el.textContent = (h > 0 ? h + " h " : "") + String(m).padStart(2, "0") + " min";
  el.classList.toggle("soon", left < 30);
}
document.addEventListener("DOMContentLoaded", () => {
  const all = document.querySelectorAll(".countdown[data-due]");
  all.forEach(countdown);
  if (all.length) setInterval(() => all.forEach(countdown), 30000);
});

// The inbox follows new arrivals (server-sent events) and refreshes its list in place.
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("inbox-live");
  if (!live || !window.EventSource) return;
  const refresh = async () => {
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("inbox-region");
    const region = document.getElementById("inbox-region");
    if (fresh && region) {
      region.innerHTML = fresh.innerHTML;
      region.querySelectorAll(".countdown[data-due]").forEach(countdown);
    }
    live.textContent = live.dataset.arrival;
  };
  const events = new EventSource(live.dataset.events);
  events.addEventListener("arrival", refresh);
  events.addEventListener("reload", refresh);
});

// A file chosen in an <input type=file data-fills=ID> is read into the textarea ID (the
// reference data editor); without scripts, the text is pasted instead.
document.querySelectorAll("input[type=file][data-fills]").forEach((input) => {
  input.addEventListener("change", () => {
    const target = document.getElementById(input.dataset.fills);
    const file = input.files && input.files[0];
    if (!target || !file) return;
    file.text().then((text) => {
      target.value = text;
    });
  });
});
