/*
 * Related Reading widget v1. Add once per page, anywhere:
 *
 *   <div data-related-reading data-url="https://site/article" data-k="3"></div>
 *   <script src="https://RELATED-READING-HOST/widget/v1.js" async></script>
 *
 * data-url defaults to the page's <link rel="canonical">, then to its address; data-k to 3.
 * The box is fetched from the origin this script came from (no cookies) and written into the
 * element in one step; with nothing to show the element stays empty. Failures never reach the
 * reader: they are logged with console.warn. No dependencies; any browser with fetch().
 *
 * Feedback: once the box has been at least half visible for a second the script reports one
 * impression, and when a teaser is followed one click (navigator.sendBeacon; the link stays the
 * article's own URL). Each report names the page, the teasers and their positions, the ranking
 * arm and a random token drawn for this view of this box; no cookie, no identifier. Nothing is
 * sent when the browser says Do Not Track or Global Privacy Control.
 */
(function () {
  "use strict";
  var SELECTOR = "[data-related-reading]";
  var script = document.currentScript ||
    document.querySelector('script[src*="/widget/v1.js"]');
  if (!script || !window.fetch) return;
  var base = new URL(script.src, location.href);

  function warn(message, detail) {
    if (window.console && console.warn) console.warn("related-reading: " + message, detail || "");
  }

  function pageUrl(el) {
    var explicit = el.getAttribute("data-url");
    if (explicit) return new URL(explicit, location.href).href;
    var canonical = document.querySelector('link[rel="canonical"][href]');
    return canonical ? canonical.href : location.href;
  }

  function fill(el) {
    if (el.hasAttribute("data-rr-state")) return; // filled (or filling) already
    el.setAttribute("data-rr-state", "loading");
    var url = pageUrl(el);
    var src = new URL("/widget/related.html", base);
    src.searchParams.set("url", url);
    src.searchParams.set("k", el.getAttribute("data-k") || "3");
    fetch(src.href, { credentials: "omit", mode: "cors" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status + " for " + url);
        return response.text();
      })
      .then(function (html) {
        if (!/\S/.test(html)) {
          el.setAttribute("data-rr-state", "empty");
          return;
        }
        el.innerHTML = html;
        el.setAttribute("data-rr-state", "filled");
        track(el);
      })
      .catch(function (error) {
        el.setAttribute("data-rr-state", "failed");
        warn("could not load related reading", error && error.message);
      });
  }

  var VISIBLE_RATIO = 0.5, VISIBLE_MS = 1000;
  var eventsUrl = new URL("/api/v1/events", base).href;

  function optedOut() {
    var dnt = navigator.doNotTrack || window.doNotTrack || navigator.msDoNotTrack;
    return dnt === "1" || dnt === "yes" || navigator.globalPrivacyControl === true;
  }

  function randomToken() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += ("0" + bytes[i].toString(16)).slice(-2);
    return out;
  }

  function send(events, beacon) {
    // text/plain is a "simple" content type: no CORS preflight, and sendBeacon accepts it.
    var body = JSON.stringify({ events: events });
    if (beacon && navigator.sendBeacon && navigator.sendBeacon(eventsUrl, body)) return;
    fetch(eventsUrl, { method: "POST", body: body, keepalive: true, credentials: "omit",
                       mode: "cors", headers: { "Content-Type": "text/plain" } })
      .catch(function (error) { warn("could not report feedback", error && error.message); });
  }

  function track(el) {
    var box = el.querySelector("[data-rr-page]");
    if (!box || optedOut() || !window.JSON || !window.crypto) return;
    var links = box.querySelectorAll("a[data-rr-id]");
    if (!links.length) return;
    var items = [];
    for (var i = 0; i < links.length; i++) items.push(links[i].getAttribute("data-rr-id"));
    var view = { page: box.getAttribute("data-rr-page"), token: randomToken(),
                 arm: box.getAttribute("data-rr-arm") || "default" };
    var seen = false, timer = null, observer = null;

    function impression() {
      return { type: "impression", page: view.page, token: view.token, arm: view.arm,
               items: items };
    }

    function seenNow() {
      if (seen) return;
      seen = true;
      if (observer) observer.disconnect();
      send([impression()], false);
      el.setAttribute("data-rr-seen", "");
    }

    if (window.IntersectionObserver) {
      observer = new IntersectionObserver(function (entries) {
        var entry = entries[entries.length - 1];
        if (entry.isIntersecting && entry.intersectionRatio >= VISIBLE_RATIO) {
          if (!timer) timer = setTimeout(seenNow, VISIBLE_MS);
        } else if (timer) {
          clearTimeout(timer);
          timer = null;
        }
      }, { threshold: [0, VISIBLE_RATIO, 1] });
      observer.observe(box);
    }

    box.addEventListener("click", function (event) {
      var link = event.target && event.target.closest && event.target.closest("a[data-rr-id]");
      if (!link) return;
      var click = { type: "click", page: view.page, token: view.token, arm: view.arm,
                    item: link.getAttribute("data-rr-id"),
                    position: parseInt(link.getAttribute("data-rr-position"), 10) };
      // A click proves the box was seen: report the impression with it if the second was short.
      var batch = seen ? [click] : [impression(), click];
      seen = true;
      if (timer) clearTimeout(timer);
      if (observer) observer.disconnect();
      send(batch, true);
    });
  }

  function run() {
    var elements = document.querySelectorAll(SELECTOR);
    for (var i = 0; i < elements.length; i++) fill(elements[i]);
  }

  // Pages that add elements later (infinite scroll, client-side navigation) call this again.
  window.RelatedReading = { refresh: run };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
