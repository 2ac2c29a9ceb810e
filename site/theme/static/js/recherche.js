/* The search over every venue of a split directory (/lieux/): a static Pagefind index built
   with the site (pages/search_index.py), fetched from the site itself, chunk by chunk, only for
   the words typed. Without JavaScript the form stays hidden and the communes below are the way
   in; if the index cannot be loaded they still are. The query lives in the page's address
   (?q=…), so a search can be shared and the back button restores it. No cookie, no storage. */
(function () {
  "use strict";

  var PAGE = 10;  /* results shown at a time: each one costs a small request for its details */
  var SLOW = 400;  /* ms before « Recherche en cours… » is said, so fast answers are said once */
  var form = document.getElementById("recherche-lieux");
  if (!form || !window.history || !window.URLSearchParams) { return; }
  var field = form.q;
  var status = document.getElementById("r-statut");
  var section = document.getElementById("r-resultats");
  var list = document.getElementById("r-liste");
  var more = document.getElementById("r-plus");
  var loading = null, results = [], shown = 0, current = 0, typing = null, pushNext = true;

  function engine() {
    if (!loading) { loading = import(form.dataset.index); }
    return loading;
  }

  function say(text) {
    if (status.textContent !== text) { status.textContent = text; }  /* announced once */
  }

  function quoted(text) { return "\u00ab\u00a0" + text + "\u00a0\u00bb"; }

  function count(n) { return n.toLocaleString("fr-FR"); }

  function card(data) {
    var item = document.createElement("li"), title = document.createElement("h3");
    var link = document.createElement("a"), where = document.createElement("p");
    item.className = "venue-card";
    link.href = data.url;
    link.textContent = data.meta.title || data.url;
    where.textContent = [data.meta.adresse, data.meta.commune].filter(Boolean).join(", ");
    title.appendChild(link);
    item.appendChild(title);
    item.appendChild(where);
    return item;
  }

  /* The next PAGE results' details; resolves to the first new link, if any. */
  function showMore(run) {
    var batch = results.slice(shown, shown + PAGE);
    shown += batch.length;
    more.hidden = true;
    return Promise.all(batch.map(function (r) { return r.data(); })).then(function (found) {
      if (run !== current) { return null; }
      var first = null;
      found.forEach(function (data) {
        var item = card(data);
        list.appendChild(item);
        first = first || item.querySelector("a");
      });
      more.hidden = shown >= results.length;
      return first;
    });
  }

  function search(text, run) {
    var slow = window.setTimeout(function () {
      if (run === current) { say("Recherche en cours…"); }
    }, SLOW);
    engine().then(function (pagefind) { return pagefind.search(text); }).then(function (found) {
      if (run !== current) { return null; }
      results = found.results;
      shown = 0;
      list.textContent = "";
      return showMore(run).then(function () {
        if (run !== current) { return; }
        window.clearTimeout(slow);
        section.hidden = results.length === 0;
        say(results.length
          ? count(results.length) + (results.length > 1 ? " lieux trouvés pour " : " lieu trouvé pour ") +
            quoted(text) + "."
          : "Aucun lieu trouvé pour " + quoted(text) +
            " : essayez le nom de votre commune ou son code postal, ou choisissez votre commune ci-dessous.");
      });
    }).catch(function () {
      window.clearTimeout(slow);
      loading = null;  /* tried again at the next search */
      if (run !== current) { return; }
      section.hidden = true;
      say("La recherche n'a pas pu être chargée. Choisissez votre commune dans la liste ci-dessous.");
    });
  }

  function run() {
    var text = field.value.trim();
    current += 1;
    if (!text) {
      results = [];
      list.textContent = "";
      section.hidden = true;
      more.hidden = true;
      say("");
      return;
    }
    search(text, current);
  }

  /* The address follows the field: a new search adds a history entry, its refinements while
     typing replace it, so « Retour » goes back search by search. */
  function remember() {
    var text = field.value.trim();
    var target = text ? "?" + new URLSearchParams({ q: text }).toString() : location.pathname;
    if (target !== (location.search || location.pathname)) {
      history[pushNext ? "pushState" : "replaceState"](null, "", target);
    }
    pushNext = false;
  }

  function restore() {
    field.value = new URLSearchParams(location.search).get("q") || "";
    pushNext = true;
    run();
  }

  field.addEventListener("input", function () {
    remember();
    window.clearTimeout(typing);
    typing = window.setTimeout(run, 250);
  });
  /* The index's entry files are fetched as soon as the field is used, not on every page view. */
  field.addEventListener("focus", function () { engine().catch(function () { loading = null; }); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(typing);
    remember();
    pushNext = true;
    run();
  });
  more.addEventListener("click", function () {
    showMore(current).then(function (first) { if (first) { first.focus(); } });
  });
  window.addEventListener("popstate", restore);
  form.hidden = false;
  restore();
}());
