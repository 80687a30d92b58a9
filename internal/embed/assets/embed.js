/* kiosko embed: paywall, meter and the one-device rule on a publisher's page.
 * <script src="https://kiosko.example.com/embed.js" data-article="ID" data-edition="E"
 *         [data-lang="es|en"] [data-fail="open|closed"] [data-newsletter="off"] async></script>
 * The element marked data-kiosko-body is the paywalled part. No dependencies, no build step. */
(function () {
  "use strict";
  var VERSION = /*VERSION*/"";
  var TEXTS = /*TEXTS*/{};
  var script = document.currentScript;
  if (!script || window.__kioskoEmbed) return;
  window.__kioskoEmbed = VERSION;
  var BASE = new URL(script.src, location.href).origin;
  var ds = script.dataset;
  var article = ds.article || "";
  var edition = ds.edition || "";
  var failMode = ds.fail === "closed" ? "closed" : "open";
  var lang = (ds.lang || document.documentElement.lang || navigator.language || "es").slice(0, 2).toLowerCase();
  if (!TEXTS[lang]) lang = "es";
  var T = TEXTS[lang];
  function t(key, n) {
    var s = T[key] || key;
    return n === undefined ? s : s.replace("{n}", String(n));
  }

  var body = document.querySelector("[data-kiosko-body]");
  if (body) body.hidden = true;

  // The UI lives in a shadow root, so the host page's CSS cannot reach it.
  var host = document.createElement("div");
  host.setAttribute("data-kiosko-ui", VERSION);
  // data-state says what the script shows: loading, read, reading,
  // wall-register, wall-subscribe, conflict, displaced, failed-open or
  // failed-closed (for the publisher's own scripts and for tests).
  function state(s) { host.setAttribute("data-state", s); }
  state("loading");
  if (body && body.parentNode) body.parentNode.insertBefore(host, body);
  else (script.parentNode || document.body).appendChild(host);
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ":host{all:initial;display:block;font:16px/1.5 system-ui,sans-serif;color:#1b1b1b}" +
    ".box{border:1px solid #c8c8c8;border-radius:6px;padding:1rem 1.25rem;margin:1rem 0;background:#fff}" +
    ".banner{background:#fff4d6;border-color:#c79a00}" +
    "h2{font-size:1.15rem;margin:0 0 .5rem}p,ul{margin:.5rem 0}li{margin:.25rem 0}" +
    "button,input{font:inherit}button{background:#1b4f8a;color:#fff;border:0;border-radius:4px;padding:.5rem 1rem;cursor:pointer}" +
    "button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #e07b00;outline-offset:2px}" +
    "a{color:#1b4f8a}.small{font-size:.875rem;color:#555}input{padding:.4rem;border:1px solid #888;border-radius:4px}" +
    "[hidden]{display:none!important}" +
    "</style>" +
    '<div class="box banner" part="banner" role="alert" hidden></div>' +
    '<div class="box" part="panel" hidden></div>' +
    '<div class="note small" part="note" role="status" aria-live="polite"></div>' +
    '<form class="box news" part="newsletter" hidden></form>';
  var banner = root.querySelector(".banner");
  var panel = root.querySelector("[part=panel]");
  var note = root.querySelector("[part=note]");
  var news = root.querySelector("form");

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function link(path, text) {
    return el("a", { href: BASE + path, target: "_blank", rel: "noopener" }, text);
  }
  function li(text, a) {
    var item = el("li", {}, text + " ");
    if (a) item.appendChild(a);
    return item;
  }

  function api(method, path, data) {
    var opts = { method: method, credentials: "include", headers: { "Accept-Language": lang } };
    if (data !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(data);
    }
    return fetch(BASE + path, opts).then(function (r) {
      return r.text().then(function (txt) {
        var j = {};
        try { j = txt ? JSON.parse(txt) : {}; } catch (e) { j = {}; }
        return { status: r.status, body: j };
      });
    });
  }

  // --- whether a person is there (docs/fairness.md) ---
  var lastInput = Date.now();
  var moved = null;
  function sawInput() { lastInput = Date.now(); if (onPresence) onPresence(); }
  ["pointerdown", "keydown", "touchstart", "wheel"].forEach(function (ev) {
    window.addEventListener(ev, sawInput, { passive: true, capture: true });
  });
  window.addEventListener("pointermove", function (e) {
    if (!moved) { moved = { x: e.clientX, y: e.clientY }; return; }
    if (Math.abs(e.clientX - moved.x) + Math.abs(e.clientY - moved.y) >= 24) { moved = null; sawInput(); }
  }, { passive: true });
  function active() { return Date.now() - lastInput < 60000; }

  // --- state ---
  var timer = null, every = 30, stream = null, onPresence = null, presenceWindow = 15, reading = false;

  function showBody(on) { if (body) body.hidden = !on; }
  function clearPanel() { panel.hidden = true; panel.textContent = ""; panel.removeAttribute("role"); }

  function setWarning(on) {
    banner.hidden = !on;
    banner.textContent = "";
    if (!on) return;
    banner.appendChild(el("strong", {}, t("banner_title")));
    banner.appendChild(el("p", {}, t("banner_text")));
    var p = el("p");
    p.appendChild(link("/account/password", t("password_link")));
    p.appendChild(document.createTextNode(" · "));
    p.appendChild(link("/plans", t("plans_link")));
    banner.appendChild(p);
  }

  function wall(kind) {
    stop();
    showBody(false);
    clearPanel();
    panel.setAttribute("role", "region");
    panel.setAttribute("aria-labelledby", "kiosko-wall");
    panel.appendChild(el("h2", { id: "kiosko-wall", tabindex: "-1" }, t(kind + "_title")));
    panel.appendChild(el("p", {}, t(kind + "_text")));
    var p = el("p");
    if (kind === "register") {
      p.appendChild(signInLink());
      p.appendChild(document.createTextNode(" · "));
      p.appendChild(link("/signup", t("signup")));
    } else {
      p.appendChild(link("/plans", t("plans_link")));
      p.appendChild(document.createTextNode(" · "));
      p.appendChild(signInLink());
    }
    panel.appendChild(p);
    panel.hidden = false;
    state("wall-" + kind);
  }

  function signInLink() {
    var a = link("/signin", t("signin"));
    a.addEventListener("click", function () {
      // Back from kiosko's sign-in tab, start again with the new session.
      window.addEventListener("focus", function again() { window.removeEventListener("focus", again); start(); });
    });
    return a;
  }

  // The interstitial: kind "conflict" (this device asked while another
  // reads) or "displaced" (another device took over).
  function interstitial(kind, other) {
    stop();
    reading = false;
    showBody(false);
    clearPanel();
    panel.setAttribute("role", "alertdialog");
    panel.setAttribute("aria-labelledby", "kiosko-inter");
    panel.setAttribute("aria-describedby", "kiosko-inter-text");
    var h = el("h2", { id: "kiosko-inter", tabindex: "-1" }, t(kind + "_title"));
    panel.appendChild(h);
    var name = other && other.name ? other.name : t("other_device");
    panel.appendChild(el("p", { id: "kiosko-inter-text" }, t("one_device") + " " + t("on_device") + " " + name + "."));
    var btn = el("button", { type: "button", "data-kiosko": "continue" }, t("continue"));
    btn.addEventListener("click", takeover);
    var p = el("p");
    p.appendChild(btn);
    p.appendChild(el("span", { class: "small" }, " " + t("continue_note")));
    panel.appendChild(p);
    var ul = el("ul");
    ul.appendChild(li(t("share"), link("/billing/upgrade?plan=premium", t("share_link"))));
    ul.appendChild(li(t("business"), link("/business", t("business_link"))));
    ul.appendChild(li(t("password"), link("/account/password", t("password_link"))));
    ul.appendChild(li(t("keeps_appearing")));
    panel.appendChild(ul);
    var terms = el("p", { class: "small" });
    terms.appendChild(link("/terms", t("terms")));
    panel.appendChild(terms);
    panel.hidden = false;
    state(kind);
    btn.focus();
  }

  function readingNow(ans) {
    reading = true;
    clearPanel();
    showBody(true);
    setWarning(!!ans.sharing_warning);
    every = ans.heartbeat_every || every;
    presenceWindow = ans.presence_window === undefined ? presenceWindow : ans.presence_window;
    schedule();
    listen();
    state("reading");
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(heartbeat, every * 1000);
  }
  function stop() {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  function heartbeat() {
    timer = null;
    if (!reading) return;
    if (document.visibilityState !== "visible") return; // resumes on visibilitychange
    api("POST", "/api/v1/reading/heartbeat", { article: article, active: active() }).then(function (r) {
      if (r.status === 200) { setWarning(!!r.body.sharing_warning); schedule(); }
      else if (r.status === 409) displaced(r.body.other_device);
      else if (r.status === 401) wall("register");
      else if (r.status === 402) wall("subscribe");
      else schedule();
    }, function () { schedule(); });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && reading && !timer) heartbeat();
  });

  function listen() {
    if (stream || !window.EventSource) return;
    stream = new EventSource(BASE + "/api/v1/reading/events", { withCredentials: true });
    stream.addEventListener("displaced", function (e) {
      var d = {};
      try { d = JSON.parse(e.data || "{}"); } catch (x) { d = {}; }
      if (reading) displaced(d.other_device || d);
    });
    stream.addEventListener("sharing_warning", function () { setWarning(true); });
    stream.addEventListener("signed_out", function () { stream.close(); stream = null; wall("register"); });
  }

  // Displaced: say so, and tell the server once whether a person was here.
  function displaced(other) {
    interstitial("displaced", other);
    var sent = false;
    var until = Date.now() + presenceWindow * 1000;
    onPresence = function () {
      if (sent || Date.now() > until || document.visibilityState !== "visible") return;
      sent = true;
      onPresence = null;
      api("POST", "/api/v1/reading/presence", { present: true }).catch(function () {});
    };
  }

  function takeover() {
    api("POST", "/api/v1/reading/takeover", { article: article, active: true }).then(function (r) {
      if (r.status === 200) readingNow(r.body);
      else if (r.status === 401) wall("register");
      else if (r.status === 402) wall("subscribe");
      else fail();
    }, fail);
  }

  function claim() {
    api("POST", "/api/v1/reading/claim", { article: article, active: active() }).then(function (r) {
      if (r.status === 200) readingNow(r.body);
      else if (r.status === 409) interstitial("conflict", r.body.other_device);
      else if (r.status === 402) wall("subscribe");
      else if (r.status === 401) wall("register");
      else fail();
    }, fail);
  }

  function fail() {
    stop();
    if (failMode === "open") {
      clearPanel();
      showBody(true);
      note.textContent = t("unreachable_open");
      state("failed-open");
    } else {
      showBody(false);
      clearPanel();
      panel.setAttribute("role", "region");
      panel.appendChild(el("p", {}, t("unreachable_closed")));
      panel.hidden = false;
      state("failed-closed");
    }
  }

  function start() {
    note.textContent = "";
    api("POST", "/embed/v1/access", { article: article }).then(function (r) {
      if (r.status !== 200) return fail();
      var a = r.body;
      if (a.decision === "claim") return claim();
      if (a.decision === "read") {
        clearPanel();
        showBody(true);
        if (a.metered) note.textContent = t("meter_left", a.remaining);
        state("read");
        return;
      }
      wall(a.decision === "register" ? "register" : "subscribe");
    }, fail);
  }

  function newsletter() {
    if (ds.newsletter === "off" || !edition) return;
    news.setAttribute("aria-labelledby", "kiosko-news");
    news.appendChild(el("h2", { id: "kiosko-news" }, t("newsletter_title")));
    var label = el("label", { for: "kiosko-email" }, t("newsletter_label") + " ");
    var input = el("input", { id: "kiosko-email", type: "email", required: "", autocomplete: "email" });
    label.appendChild(input);
    news.appendChild(label);
    news.appendChild(document.createTextNode(" "));
    news.appendChild(el("button", { type: "submit" }, t("newsletter_button")));
    var msg = el("p", { role: "status", "aria-live": "polite" });
    news.appendChild(msg);
    news.addEventListener("submit", function (e) {
      e.preventDefault();
      api("POST", "/api/v1/newsletter/subscriptions", { email: input.value, edition: edition }).then(function (r) {
        msg.textContent = r.status === 202 ? t("newsletter_done") : (r.body.error && r.body.error.message) || t("unreachable_closed");
      }, function () { msg.textContent = t("unreachable_closed"); });
    });
    news.hidden = false;
  }

  newsletter();
  start();
})();
