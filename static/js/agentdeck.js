// agentdeck's own behaviour, beyond what htmx does: the viewer's time zone,
// the day menu's date picker, menus that close like menus, rows that open
// with one click, placing rows that arrive live, the saved views' counts,
// the view's keys, following a session's live tail, and the ticking
// duration of working runs.
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

  // A menu's button counts its ticked values. The form that asks for new
  // results keeps its own state rather than being sent again, so the counts
  // follow each tick here; a form the server sends (after a chip, a tab or
  // Clear) brings its own.
  function countTicks(menu) {
    var n = 0;
    menu.querySelectorAll("input:checked").forEach(function (input) {
      if (input.name.slice(-5) === "_mode") return;
      if (input.type === "radio" && (input.value === "" || (input.value === "date" && !menu.querySelector("[data-date]").value))) return;
      n++;
    });
    var summary = menu.querySelector("summary");
    var badge = summary.querySelector(".count");
    if (n === 0) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "count";
      summary.appendChild(document.createTextNode(" "));
      summary.appendChild(badge);
    }
    badge.textContent = String(n);
  }
  document.addEventListener("change", function (e) {
    var menu = e.target.closest && e.target.closest("#filters details.menu");
    if (menu) countTicks(menu);
  });

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

  // A destructive form asks first. With the answer yes it says so itself;
  // without JavaScript the server asks on a page of its own.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-confirm]")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      e.preventDefault();
      return;
    }
    if (!form.querySelector("input[name=confirm]")) {
      var yes = document.createElement("input");
      yes.type = "hidden";
      yes.name = "confirm";
      yes.value = "yes";
      form.appendChild(yes);
    }
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

  // Live rows (GET /events). htmx's SSE extension swaps the summary and the
  // results itself; a row needs the page's knowledge of which rows it shows:
  // a row it shows is replaced in place, a new one goes where its creation
  // time puts it, and while the top of the table is out of sight (scrolled
  // down, or further pages loaded) new rows wait behind the "new" button.
  var pending = [];

  function rowFrom(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    var row = t.content.firstElementChild;
    return row && row.tagName === "TR" && row.id ? row : null;
  }

  function createdOf(row) {
    var t = row.querySelector(".col-created time");
    return t ? t.getAttribute("datetime") : "";
  }

  // Rows are newest first: by creation time, then by id, like the server.
  function isNewer(a, b) {
    var ca = createdOf(a), cb = createdOf(b);
    return ca !== cb ? ca > cb : a.id > b.id;
  }

  // New rows wait while the top of the table is out of sight, and while
  // keyboard focus is in the table, so that rows do not move under it.
  function topOutOfSight(rows) {
    var live = document.getElementById("live");
    return rows.hasAttribute("data-paged") || (live && live.hasAttribute("data-paged")) ||
      rows.getBoundingClientRect().top < 0 || rows.contains(document.activeElement);
  }

  // Day separators: each day's first row follows one naming it, once. The
  // server starts every page with one; rows that arrive live or by "Load
  // more" may repeat a day or begin a new one.
  function separateDays(rows) {
    if (!rows) return;
    var day = "";
    for (var r = rows.firstElementChild; r; ) {
      var next = r.nextElementSibling;
      if (r.classList.contains("day")) {
        var following = next && next.classList.contains("row") ? next.getAttribute("data-day") : null;
        if (following !== r.getAttribute("data-day") || following === day) r.remove();
        else day = following;
      } else if (r.classList.contains("row")) {
        var d = r.getAttribute("data-day");
        if (d && d !== day) {
          var sep = document.createElement("tr");
          sep.className = "day";
          sep.setAttribute("data-day", d);
          var th = document.createElement("th");
          th.scope = "colgroup";
          th.colSpan = 7;
          th.textContent = r.getAttribute("data-day-label") || d;
          sep.appendChild(th);
          rows.insertBefore(sep, r);
          day = d;
        }
      }
      r = next;
    }
  }

  // place puts a row where it belongs; it reports false when the row must
  // wait for the top of the table to come into sight.
  function place(row, mayWait) {
    var rows = document.getElementById("rows");
    if (!rows) {
      // The view was empty: fetch the whole results, table included.
      htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#results", swap: "outerHTML" });
      return true;
    }
    var before = null;
    var first = rows.querySelector("tr.row");
    for (var r = first; r; r = r.nextElementSibling) {
      if (r.classList.contains("row") && isNewer(row, r)) { before = r; break; }
    }
    if (!before && document.querySelector("#pager a")) return true; // a later page will show it
    if (mayWait && (before === first || rows.contains(document.activeElement)) && topOutOfSight(rows)) return false;
    rows.insertBefore(row, before);
    htmx.process(row);
    separateDays(rows);
    tick();
    return true;
  }

  function showPending() {
    var button = document.querySelector("[data-new-items]");
    if (!button) return;
    button.hidden = pending.length === 0;
    button.textContent = pending.length + " new";
  }

  function receiveRow(html) {
    var row = rowFrom(html);
    if (!row) return;
    pending = pending.filter(function (p) { return p.id !== row.id; });
    var shown = document.getElementById(row.id);
    if (shown) {
      // The row keeps its place; focus in it stays on it.
      var focused = shown.contains(document.activeElement);
      shown.replaceWith(row);
      htmx.process(row);
      if (focused) {
        var link = row.querySelector(".row__link");
        if (link) link.focus({ preventScroll: true });
      }
      announce("updated", row);
      tick();
    } else if (!place(row, true)) {
      pending.push(row);
      announce("new", row);
    } else {
      announce("new", row);
    }
    showPending();
  }

  function removeRow(id) {
    if (!/^[0-9a-f-]{36}$/.test(id)) return;
    var row = document.getElementById("item-" + id);
    if (row) {
      row.remove();
      separateDays(document.getElementById("rows"));
    }
    pending = pending.filter(function (p) { return p.id !== "item-" + id; });
    showPending();
  }

  // One polite live region tells screen readers what changed, summed up at
  // most every few seconds rather than row by row.
  var changes = { new: [], updated: [] };
  var announceTimer = null;
  function announce(kind, row) {
    changes[kind].push(row);
    if (announceTimer === null) announceTimer = setTimeout(speak, 3000);
  }
  function speak() {
    announceTimer = null;
    var region = document.getElementById("live-announce");
    var seen = changes;
    changes = { new: [], updated: [] };
    var fresh = seen.new.length, updated = seen.updated.length;
    if (!region || fresh + updated === 0) return;
    if (fresh + updated === 1) {
      var row = fresh ? seen.new[0] : seen.updated[0];
      var title = row.querySelector(".row__link"), status = row.querySelector(".status__label");
      region.textContent = (fresh ? "New run: " : "") + (title ? title.textContent : "A run") +
        (status ? ", " + status.textContent.toLowerCase() : "") + ".";
      return;
    }
    var parts = [];
    if (fresh) parts.push(fresh + (fresh === 1 ? " new run" : " new runs"));
    if (updated) parts.push(updated + (updated === 1 ? " run changed" : " runs changed"));
    region.textContent = parts.join(", ") + ".";
  }

  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var m = e.detail;
    if (m.type === "item") {
      e.preventDefault();
      receiveRow(m.data);
    } else if (m.type === "gone") {
      e.preventDefault();
      removeRow(m.data);
    }
  });

  document.addEventListener("click", function (e) {
    if (!e.target.closest("[data-new-items]")) return;
    var rows = pending;
    pending = [];
    rows.forEach(function (row) { place(row, false); });
    showPending();
    var results = document.getElementById("results");
    if (results) results.scrollIntoView({ block: "start" });
  });

  // htmx fires afterSwap on each element a response swapped, its target and
  // those swapped out of band alike: only the target's own counts here.
  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    if (e.target !== target) return;
    if (target && target.id === "rows") {
      target.setAttribute("data-paged", ""); // "Load more" brought a further page
      morePages++;
      separateDays(target);
    }
    if (target && target.id === "results") morePages = 0;
  });
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "results") {
      pending = []; // the results were re-rendered: waiting rows are in them or gone
      morePages = 0;
      showPending();
    }
  });

  // Pausing live updates (WCAG 2.2.2): while paused the view keeps still and
  // counts what it did not show; resuming fetches the view afresh.
  var paused = false, missed = 0;
  function showPause() {
    var button = document.querySelector("[data-live-toggle]");
    if (!button) return;
    button.hidden = false;
    button.textContent = paused ? "Resume live updates" + (missed ? " (" + missed + " " + (missed === 1 ? "change" : "changes") + ")" : "") : "Pause live updates";
  }
  window.addEventListener("htmx:sseBeforeMessage", function (e) {
    var type = e.detail.type;
    if (!paused || !e.target.closest || !e.target.closest("#live")) return;
    if (type !== "item" && type !== "gone" && type !== "summary" && type !== "results") return;
    e.preventDefault();
    e.stopPropagation();
    if (type === "item" || type === "gone") missed++;
    showPause();
  }, true);
  document.addEventListener("click", function (e) {
    if (!e.target.closest("[data-live-toggle]")) return;
    paused = !paused;
    if (!paused && missed > 0) {
      htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#results", swap: "outerHTML" });
    }
    missed = 0;
    showPause();
  });
  document.addEventListener("DOMContentLoaded", showPause);

  // Back to the list after opening a run: the rows "Load more" had brought
  // are fetched again, following the pager as before, and the row that was
  // at the top of the window is put back where it was.
  var morePages = 0;
  function listKey() { return "agentdeck:list:" + window.location.pathname + window.location.search; }
  function topRow() {
    var rows = document.querySelectorAll("#rows > tr.row");
    for (var i = 0; i < rows.length; i++) {
      var top = rows[i].getBoundingClientRect().top;
      if (top >= 0) return { id: rows[i].id, top: top };
    }
    return null;
  }
  window.addEventListener("pagehide", function () {
    if (!document.getElementById("rows")) return;
    var at = topRow();
    try {
      sessionStorage.setItem(listKey(), JSON.stringify({ pages: morePages, row: at && at.id, top: at && at.top, y: window.scrollY }));
    } catch (err) { /* storage full or refused: back shows the first page */ }
  });
  function restoreList() {
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (!nav || nav.type !== "back_forward" || !document.getElementById("rows")) return;
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(listKey()) || "null"); } catch (err) { saved = null; }
    if (!saved) return;
    var left = Math.min(saved.pages || 0, 20);
    function next() {
      var more = document.querySelector("#pager a[href]");
      if (left > 0 && more && window.htmx) {
        left--;
        htmx.ajax("GET", more.getAttribute("href"), { target: "#rows", swap: "beforeend" }).then(next);
        return;
      }
      var row = saved.row && document.getElementById(saved.row);
      if (row) window.scrollTo(0, row.getBoundingClientRect().top + window.scrollY - saved.top);
      else window.scrollTo(0, saved.y || 0);
    }
    next();
  }
  // Deferred, this runs once the page is parsed: early enough to keep the
  // browser from restoring the scroll position itself, against fewer rows.
  if ("scrollRestoration" in history && document.getElementById("rows")) history.scrollRestoration = "manual";
  document.addEventListener("DOMContentLoaded", restoreList);

  // A saved view's tab counts its working and failed runs. As the runs
  // shown change, the tabs ask for fresh counts: at most every 5 seconds,
  // the last change always followed by one.
  var countsTimer = null;
  var countsAskedAt = 0;
  function askForCounts() {
    countsTimer = null;
    countsAskedAt = Date.now();
    var tabs = document.getElementById("tabs");
    if (tabs && tabs.querySelector(".tab--saved") && window.htmx) htmx.trigger(tabs, "refresh-counts");
  }
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var type = e.detail.type;
    if (type !== "item" && type !== "gone" && type !== "summary" && type !== "results") return;
    if (countsTimer === null) countsTimer = setTimeout(askForCounts, Math.max(0, countsAskedAt + 5000 - Date.now()));
  });

  // A live stream's last words: "signedout" when the session ended (the page
  // stops listening and goes to sign in, back here afterwards), "paused"
  // when the person's newer pages took its place (the browser reconnects by
  // itself a minute later; until then the page says so).
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var type = e.detail.type;
    if (type !== "signedout" && type !== "paused") return;
    e.preventDefault();
    var source = e.target.closest("[sse-connect]");
    if (type === "signedout") {
      // The message came from the event source itself: closed, it does not
      // reconnect to be refused.
      if (e.detail.target && e.detail.target.close) e.detail.target.close();

      window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname + window.location.search));
      return;
    }
    if (source && !source.querySelector("[data-live-paused]")) {
      var note = document.createElement("p");
      note.className = "muted live__paused";
      note.setAttribute("data-live-paused", "");
      note.setAttribute("role", "status");
      note.textContent = e.detail.data;
      source.appendChild(note);
    }
  });
  document.addEventListener("htmx:sseOpen", function (e) {
    var note = e.target.querySelector && e.target.querySelector("[data-live-paused]");
    if (note) note.remove();
  });

  // Keys on the view: j and k move through the rows (Enter opens the one
  // in focus, as any link), / goes to the search, f opens the filter menus,
  // ? lists the keys. Nothing fires while one types in a field, or with a
  // modifier held; everything here is also a click or a Tab away.
  function typing(t) {
    return t.closest && t.closest("input, textarea, select, [contenteditable], dialog[open]");
  }
  function moveRow(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("#rows > tr .row__link"));
    if (links.length === 0) return;
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links[next].focus();
    links[next].closest("tr").scrollIntoView({ block: "nearest" });
  }
  function showKeys() {
    var keys = document.getElementById("keys");
    if (keys && !keys.open) keys.showModal();
  }
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (!document.getElementById("results")) return;
    switch (e.key) {
      case "j": moveRow(1); break;
      case "k": moveRow(-1); break;
      case "/": {
        var search = document.getElementById("search");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "f": {
        var menu = document.querySelector("#filters details.menu");
        if (!menu) return;
        menu.setAttribute("open", "");
        menu.querySelector("summary").focus();
        break;
      }
      case "?": showKeys(); break;
      default: return;
    }
    e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-show-keys]")) showKeys();
  });

  // The session page's live tail. The browser resumes a dropped stream by
  // itself, sending the last event's id; should it open a new one instead
  // (after the server refused it once), the address must ask from the last
  // event the page shows. A log scrolled to its end stays at its end as
  // lines arrive.
  var followLog = false;

  function logAtEnd(log) {
    return log.scrollTop + log.clientHeight >= log.scrollHeight - 2;
  }

  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var tail = e.target.closest && e.target.closest("[data-tail]");
    if (!tail) return;
    var id = e.detail.lastEventId;
    if (/^[0-9]+$/.test(id)) {
      var url = new URL(tail.getAttribute("sse-connect"), window.location.href);
      url.searchParams.set("after", id);
      tail.setAttribute("sse-connect", url.pathname + url.search);
    }
    var log = document.getElementById("log");
    followLog = e.detail.type === "logs" && log !== null && logAtEnd(log);
  });
  document.addEventListener("htmx:sseMessage", function () {
    var log = document.getElementById("log");
    if (followLog && log) log.scrollTop = log.scrollHeight;
    followLog = false;
  });
  document.addEventListener("DOMContentLoaded", function () {
    var log = document.getElementById("log");
    if (log && document.querySelector("[data-tail]")) log.scrollTop = log.scrollHeight;
  });

  // Working runs' durations tick here, with no request per second. Each
  // element says when the run started and what the server's clock read when
  // it rendered the row; from then on the browser's own clock adds the time
  // that passed, so a skewed browser clock does not matter.
  var rendered = new WeakMap();

  function formatDuration(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    var pad = function (n) { return n < 10 ? "0" + n : "" + n; };
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + pad(s % 60) + "s";
    return Math.floor(s / 3600) + "h " + pad(Math.floor(s / 60) % 60) + "m";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".duration[data-started]").forEach(function (el) {
      var base = rendered.get(el);
      if (!base) {
        var started = Date.parse(el.getAttribute("data-started"));
        var at = Date.parse(el.getAttribute("data-now"));
        if (isNaN(started) || isNaN(at)) return;
        rendered.set(el, { elapsed: at - started, since: now });
        return; // the server's text is right for now
      }
      el.textContent = formatDuration(base.elapsed + now - base.since);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);
  document.addEventListener("htmx:oobAfterSwap", tick);
  document.addEventListener("DOMContentLoaded", tick);

  // Deferred scripts run before DOMContentLoaded, and htmx set up its own
  // listener first, so the form is processed by the time this runs.
  document.addEventListener("DOMContentLoaded", rememberZone);

  // A page that a plain form is leaving (signing out, say) lets the form's
  // answer decide where the browser goes: a live stream's "signedout",
  // which may arrive meanwhile, only closes its source (so the server's
  // hang-up is no error). htmx's forms have stopped their submit event by
  // the time it reaches the document.
  var leaving = false;
  document.addEventListener("submit", function (e) {
    if (!e.defaultPrevented) leaving = true;
  });
  window.addEventListener("pageshow", function () { leaving = false; });
  window.addEventListener("htmx:sseBeforeMessage", function (e) {
    if (leaving && e.detail.type === "signedout") {
      if (e.detail.target && e.detail.target.close) e.detail.target.close();
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);
})();
