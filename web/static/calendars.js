// The copy button of the Calendars page: copies the new calendar address to the clipboard.
// Served from /static so that the Content-Security-Policy (script-src 'self') allows it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    const label = button.textContent;
    const say = (text) => {
      button.textContent = text;
      setTimeout(() => { button.textContent = label; }, 2500);
    };
    button.addEventListener("click", async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
        say(button.dataset.copied);
      } catch {
        say(document.execCommand && document.execCommand("copy") ? button.dataset.copied
                                                                   : button.dataset.failed);
      }
    });
  }
});
