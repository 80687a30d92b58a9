// reading.js: the reading rule on the page (no build step, plain ES2020).
//
// Loaded on every page of a signed-in reader (<body data-events>). It
// listens to the reading event stream, and on a subscriber article being
// read (<article id="article" data-reading="true">) it heartbeats while the
// page is visible. Every text it shows is already in the page, rendered
// hidden by the server in the reader's language: #interstitial,
// #sharing-banner, #signed-out. Without JavaScript the page still works:
// the interstitial's form posts a takeover and reloads.
"use strict";

(() => {
  const page = document.body;
  if (!page || !page.dataset.events) return;

  const $ = (id) => document.getElementById(id);

  // A form answered on the page it came from (a wrong password when
  // signing a device out) keeps the reader on that page's address, so a
  // reload shows the page instead of posting the form again.
  const pageURL = $("page-url");
  if (pageURL && pageURL.dataset.url && window.history && history.replaceState) {
    history.replaceState(null, "", pageURL.dataset.url);
  }
  const article = $("article");
  const reading = !!article && article.dataset.reading === "true";
  const articleID = article ? article.dataset.article : "";
  const every = Math.max(5, parseInt(article && article.dataset.heartbeatEvery, 10) || 30) * 1000;
  const ACTIVE_WINDOW = 60 * 1000; // "active": a person interacted in the last minute
  // Once displaced, the page watches this long for a person and reports
  // what it saw, once (POST /api/v1/reading/presence); 0: it reports nothing.
  const presenceWindow = Math.max(0, parseInt(article && article.dataset.presenceWindow, 10) || 0) * 1000;

  let lastActivity = Date.now();
  let displaced = false;
  let signedOut = false;
  let timer = null;
  let source = null;

  for (const type of ["scroll", "wheel", "keydown", "pointerdown", "pointermove", "touchstart"]) {
    window.addEventListener(type, () => { lastActivity = Date.now(); }, { passive: true, capture: true });
  }
  const active = () => Date.now() - lastActivity < ACTIVE_WINDOW;

  const show = (el, on) => { if (el) el.hidden = !on; };

  // "Last active", said as the server says it (Page.LastActive): "just
  // now", "5 minutes ago", then the time of day in this browser's zone,
  // each from the catalog's plural forms in #other-seen's data-forms.
  const lang = document.documentElement.lang || undefined;
  const plural = (forms, n) => {
    if (!forms) return "";
    let key = "other";
    try { key = new Intl.PluralRules(lang).select(n); } catch (e) { /* "other" */ }
    return forms[key] || forms.other || "";
  };
  const lastSeenText = (iso) => {
    const t = iso ? new Date(iso) : null;
    if (!t || isNaN(t.getTime())) return "";
    const seen = $("other-seen");
    let forms = {};
    try { forms = JSON.parse((seen && seen.dataset.forms) || "{}") || {}; } catch (e) { forms = {}; }
    const ago = Date.now() - t.getTime();
    if (ago < 60 * 1000 && forms.now) return forms.now;
    if (ago < 60 * 60 * 1000 && forms.minutes) return plural(forms.minutes, Math.floor(ago / 60000)).replace("%d", String(Math.floor(ago / 60000)));
    const time = t.toLocaleTimeString(lang, { hour: "numeric", minute: "2-digit" });
    return forms.at ? plural(forms.at, t.getHours()).replace("%[1]s", time) : time;
  };

  // The displaced page's report: did a person interact with it after
  // another device took the seat? One person who moved to that device left
  // this one untouched; two people leave someone at each. Only deliberate
  // input counts (a press, a touch, the wheel, a key, or the pointer moved
  // some distance), not a page scrolled by this script or a jolted mouse.
  // Sent once, as soon as a person shows, or at the end of the window if
  // nobody did and the page is still visible; a hidden page sends nothing.
  let watch = null;
  const MOVE_PX = 24;

  const report = (present) => {
    if (!watch || watch.sent) return;
    watch.sent = true;
    clearTimeout(watch.timer);
    post("/api/v1/reading/presence", { present }).catch(() => {});
  };

  const watchPresence = () => {
    if (!presenceWindow || (watch && !watch.sent)) return;
    watch = { sent: false, until: Date.now() + presenceWindow, x: null, y: null, moved: 0 };
    watch.timer = setTimeout(() => {
      if (document.visibilityState === "visible") report(false);
      else if (watch) watch.sent = true;
    }, presenceWindow);
  };

  const sawPerson = (e) => {
    if (!watch || watch.sent || Date.now() > watch.until || document.visibilityState !== "visible") return;
    if (e.type === "pointermove") {
      if (watch.x !== null) watch.moved += Math.abs(e.clientX - watch.x) + Math.abs(e.clientY - watch.y);
      watch.x = e.clientX;
      watch.y = e.clientY;
      if (watch.moved < MOVE_PX) return;
    }
    report(true);
  };
  for (const type of ["pointerdown", "touchstart", "wheel", "keydown", "pointermove"]) {
    window.addEventListener(type, sawPerson, { passive: true, capture: true });
  }

  // The interstitial replaces the body: another device took the seat.
  const showInterstitial = (other) => {
    if (!displaced) watchPresence();
    displaced = true;
    stopHeartbeat();
    show($("article-body"), false);
    const name = $("other-name");
    const seen = $("other-seen");
    if (other && name) name.textContent = other.name || name.dataset.unknown || "";
    if (other && seen) {
      seen.dataset.seen = other.last_seen || "";
      seen.textContent = lastSeenText(other.last_seen);
    }
    // This device was displaced: the headline says reading moved away.
    const title = $("interstitial-title");
    if (title && title.dataset.displaced) title.textContent = title.dataset.displaced;
    const box = $("interstitial");
    show(box, true);
    if (box) {
      box.scrollIntoView({ block: "start" });
      box.focus({ preventScroll: true });
    }
  };

  const hideInterstitial = () => {
    displaced = false;
    show($("interstitial"), false);
    show($("article-body"), true);
    startHeartbeat();
  };

  const showSharingWarning = () => show($("sharing-banner"), true);

  const showSignedOut = () => {
    if (signedOut) return;
    signedOut = true;
    stopHeartbeat();
    if (source) source.close();
    for (const el of document.querySelectorAll("main, #interstitial, #sharing-banner, .nav-signed-in")) show(el, false);
    for (const el of document.querySelectorAll(".nav-signed-out")) show(el, true);
    const box = $("signed-out");
    show(box, true);
    if (box) box.focus({ preventScroll: false });
  };

  const post = (url, body) => fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify(body),
  });

  const answer = async (res) => {
    try { return await res.json(); } catch (e) { return {}; }
  };

  const heartbeat = async () => {
    if (!reading || displaced || signedOut || document.visibilityState !== "visible") return;
    let res;
    try {
      res = await post("/api/v1/reading/heartbeat", { active: active() });
    } catch (e) {
      return; // offline: the next beat tries again
    }
    if (res.status === 401) return showSignedOut();
    const data = await answer(res);
    if (res.status === 409 && data.status === "displaced") return showInterstitial(data.other_device);
    if (res.ok && data.sharing_warning) showSharingWarning();
  };

  function startHeartbeat() {
    stopHeartbeat();
    if (!reading || displaced || signedOut || document.visibilityState !== "visible") return;
    timer = setInterval(heartbeat, every);
  }

  function stopHeartbeat() {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      heartbeat();
      startHeartbeat();
    } else {
      stopHeartbeat();
    }
  });
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) { heartbeat(); startHeartbeat(); }
  });

  // "Continue reading here" without leaving the page, when the body is
  // already here (this page was displaced). Otherwise the form posts.
  const form = $("takeover-form");
  if (form) {
    form.addEventListener("submit", async (e) => {
      if (!$("article-body") || !articleID) return;
      e.preventDefault();
      let res;
      try {
        res = await post("/api/v1/reading/takeover", { article: articleID, active: true });
      } catch (err) {
        form.submit();
        return;
      }
      if (res.status === 401) return showSignedOut();
      const data = await answer(res);
      if (res.ok && data.status === "reading") {
        hideInterstitial();
        if (data.sharing_warning) showSharingWarning();
      } else {
        form.submit();
      }
    });
  }

  const parse = (e) => {
    try { return JSON.parse(e.data || "{}") || {}; } catch (err) { return {}; }
  };

  const listen = () => {
    if (!window.EventSource || source || signedOut) return;
    source = new EventSource(page.dataset.events);
    source.addEventListener("displaced", (e) => {
      if (!reading || signedOut) return;
      const d = parse(e);
      const other = d.other_device || { name: d.other_name || d.name || "", last_seen: d.other_last_seen || d.last_seen || "" };
      showInterstitial(other);
    });
    source.addEventListener("sharing_warning", showSharingWarning);
    source.addEventListener("signed_out", showSignedOut);
  };
  // A stream opened before the load event would keep the page "loading"
  // for ever in some browsers, so it starts once the page has loaded.
  if (document.readyState === "complete") {
    listen();
  } else {
    window.addEventListener("load", () => setTimeout(listen, 0));
  }

  // A page that opens on the interstitial (the seat is read elsewhere)
  // moves focus to it, as a pushed one does, and says "last active" in
  // this browser's time zone.
  const first = $("interstitial");
  if (first && !first.hidden) {
    const seen = $("other-seen");
    if (seen && seen.dataset.seen) seen.textContent = lastSeenText(seen.dataset.seen) || seen.textContent;
    first.focus({ preventScroll: true });
  }

  startHeartbeat();
})();
