// agentdeck's own behaviour, beyond what htmx does: the viewer's time zone,
// the day menu's date picker, menus that close like menus, and rows that
// open with one click.
(function () {
  "use strict";

  // The view reads "day" in the browser's zone unless the URL names one. The
  // server learns the zone from this cookie; on the first visit the results
  // are fetched again once it is known.
  function rememberZone() {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!tz) return;
    var cookie = "tz=" + encodeURIComponent(tz);
    var known = document.cookie.split("; ").indexOf(cookie) >= 0;
    document.cookie = cookie + "; path=/; max-age=31536000; samesite=lax";
    var input = document.querySelector("[data-tz]");
    if (!known && input && !input.value && tz !== "UTC" && window.htmx) {
      input.value = tz;
      htmx.trigger(input.form, "change");
    }
  }

  // Picking a date selects "On"; picking a shortcut clears the date. This
  // runs in the capture phase, before the form sends its change.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("[data-date]") && t.value) {
      var radio = t.form.querySelector("[data-day-date]");
      if (radio) radio.checked = true;
    } else if (t.matches("input[name=day]") && !t.matches("[data-day-date]")) {
      var date = t.form.querySelector("[data-date]");
      if (date) date.value = "";
    }
  }, true);

  // One open menu at a time; a click outside, Escape, or moving the focus
  // to something outside closes it.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("toggle", function (e) {
    if (e.target.matches && e.target.matches("details.menu") && e.target.open) closeMenus(e.target);
  }, true);
  document.addEventListener("click", function (e) {
    if (!e.target.closest("details.menu")) closeMenus(null);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (open) {
      e.preventDefault();
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
  // Only a move to another element counts: a date picker or another window
  // taking the focus leaves the menu open.
  document.addEventListener("focusout", function (e) {
    var menu = e.target.closest && e.target.closest("details.menu[open]");
    if (menu && e.relatedTarget && !menu.contains(e.relatedTarget)) menu.removeAttribute("open");
  });

  // A row is one link (its title's, stretched over the row). The creation
  // time sits above it so that hovering shows the exact time; a plain click
  // there still opens the row.
  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    var time = e.target.closest(".row time");
    var link = time && time.closest(".row").querySelector(".row__link");
    if (link) link.click();
  });

  // A "Copy" button copies the field its data-copy names, such as a new
  // invite link; the field is selected too, for copying by hand.
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = "Copied";
      }, function () {});
    }
  });

  // Deferred scripts run before DOMContentLoaded, and htmx set up its own
  // listener first, so the form is processed by the time this runs.
  document.addEventListener("DOMContentLoaded", rememberZone);
})();
