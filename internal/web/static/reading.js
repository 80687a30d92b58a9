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
  const article = $("article");
  const reading = !!article && article.dataset.reading === "true";
  const articleID = article ? article.dataset.article : "";
  const every = Math.max(5, parseInt(article && article.dataset.heartbeatEvery, 10) || 30) * 1000;
  const ACTIVE_WINDOW = 60 * 1000; // "active": a person interacted in the last minute

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

  const lastSeenText = (iso) => {
    const t = iso ? new Date(iso) : null;
    if (!t || isNaN(t.getTime())) return "";
    return t.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
  };

  // The interstitial replaces the body: another device took the seat.
  const showInterstitial = (other) => {
    displaced = true;
    stopHeartbeat();
    show($("article-body"), false);
    const name = $("other-name");
    const seen = $("other-seen");
    if (other && name) name.textContent = other.name || name.dataset.unknown || "";
    if (other && seen) seen.textContent = lastSeenText(other.last_seen);
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
    for (const el of document.querySelectorAll("main, #interstitial, #sharing-banner")) show(el, false);
    show($("signed-out"), true);
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

  startHeartbeat();
})();
