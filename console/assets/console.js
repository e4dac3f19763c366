// Small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a[data-back]")) {
    if (history.length > 1) {
      link.addEventListener("click", (e) => { e.preventDefault(); history.back(); });
    }
  }
});
