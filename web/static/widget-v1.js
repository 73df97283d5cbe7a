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
      })
      .catch(function (error) {
        el.setAttribute("data-rr-state", "failed");
        warn("could not load related reading", error && error.message);
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
