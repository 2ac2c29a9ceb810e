/* Filters for the venue directory and the workshop list. Without JavaScript the full lists stay
   usable; with it, a form appears, hides what does not match, sorts by distance (from the
   browser's position, which never leaves it, or from a commune's town hall) and tells which
   venues are open now, in the territory's time. The choices live in the page's address, so a
   list can be shared and the back button restores it. No network, no storage. */
(function () {
  "use strict";

  var DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
  var WEEK = 10080;

  function has(list, value) { return !value || (list || "").split("|").indexOf(value) !== -1; }

  /* Same normalisation as pages.venues.search_text: no case, accents or punctuation. */
  function words(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  function haversine(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180, dp = (lat2 - lat1) * rad, dl = (lon2 - lon1) * rad;
    var a = Math.pow(Math.sin(dp / 2), 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.pow(Math.sin(dl / 2), 2);
    return 2 * 6371000 * Math.asin(Math.sqrt(a));
  }

  function distanceText(m) {
    if (m < 1000) { return "à " + Math.max(10, Math.round(m / 10) * 10) + " m"; }
    if (m < 10000) { return "à " + (m / 1000).toFixed(1).replace(".", ",") + " km"; }
    return "à " + Math.round(m / 1000) + " km";
  }

  function clock(minutes) {
    var m = ((minutes % 1440) + 1440) % 1440;
    if (m === 0 && minutes > 0) { return "minuit"; }
    var h = Math.floor(m / 60), mm = m % 60;
    return h + " h" + (mm ? " " + (mm < 10 ? "0" : "") + mm : "");
  }

  /* Now in the territory's timezone: weekday (0 = Monday), minute of the day, ISO date. */
  function parisNow(zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    var day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday);
    return { day: day, minute: Number(parts.hour) * 60 + Number(parts.minute),
      y: Number(parts.year), m: Number(parts.month), d: Number(parts.day) };
  }

  function isoPlus(now, days) {
    return new Date(Date.UTC(now.y, now.m - 1, now.d + days)).toISOString().slice(0, 10);
  }

  /* « Ouvert jusqu'à 18 h » or « Ouvre mardi à 9 h », from the usual week's intervals; a
     venue closed on public holidays is closed on the ones listed in the form. */
  function openState(spans, now, holidays, closedOnHolidays) {
    var at = now.day * 1440 + now.minute, next = null;
    if (spans.length === 1 && spans[0][0] === 0 && spans[0][1] >= WEEK) {
      return { open: true, text: "Ouvert 24 h sur 24" };
    }
    for (var shift = -WEEK; shift <= WEEK; shift += WEEK) {
      for (var i = 0; i < spans.length; i += 1) {
        var start = spans[i][0] + shift - at, end = spans[i][1] + shift - at;
        var offset = Math.floor((start + now.minute) / 1440);
        if (closedOnHolidays && holidays.indexOf(isoPlus(now, offset)) !== -1) { continue; }
        if (start <= 0 && end > 0) {
          return { open: true, text: "Ouvert jusqu'à " + clock(spans[i][1]) };
        }
        if (start > 0 && (next === null || start < next.start)) {
          next = { start: start, offset: offset, minute: spans[i][0] };
        }
      }
    }
    if (next === null) { return { open: false, text: "" }; }
    var day = next.offset === 0 ? "aujourd'hui" : DAYS[Math.floor(next.minute / 1440) % 7];
    return { open: false, text: "Ouvre " + day + " à " + clock(next.minute) };
  }

  function spansOf(item) {
    return (item.dataset.horaires || "").split(" ").filter(Boolean).map(function (pair) {
      return pair.split("-").map(Number);
    });
  }

  /* A commune's page of the split directory filters only its own venues: when the text finds
     none there, offer the search over the whole territory (/lieux/?q=…, recherche.js). */
  function searchElsewhere(offer, field, shown) {
    if (!offer) { return; }
    var text = field.value.trim();
    offer.hidden = shown > 0 || !text;
    if (offer.hidden) { return; }
    var link = offer.querySelector("a");
    link.href = "/lieux/?" + new URLSearchParams({ q: text }).toString();
    link.textContent = "Chercher \u00ab\u00a0" + text + "\u00a0\u00bb dans tout le territoire";
  }

  function setup(options) {
    var form = document.getElementById(options.form);
    if (!form) { return; }
    form.hidden = false;
    var items = Array.prototype.slice.call(document.querySelectorAll(options.items));
    var groups = Array.prototype.slice.call(document.querySelectorAll(options.groups));
    var status = document.getElementById(options.status);
    var message = document.getElementById(options.message);
    var nearButton = document.getElementById(options.near);
    var holidays = (form.dataset.feries || "").split(" ");
    var position = null;
    var homes = items.map(function (item) {
      return { parent: item.parentNode, next: null, item: item };
    });
    homes.forEach(function (home, i) { home.index = i; });
    var flat = null;

    function origin() {
      if (position) { return position; }
      var select = options.sortField ? form[options.sortField] : null;
      var option = select ? select.options[select.selectedIndex] : null;
      var text = form.texte ? form.texte.value.trim() : "";
      if ((!option || !option.value) && /^\d{5}$/.test(text) && select) {
        option = Array.prototype.filter.call(select.options, function (o) {
          return (o.dataset.cp || "").split(" ").indexOf(text) !== -1;
        })[0];
      }
      if (option && option.value && option.dataset.lat) {
        return { lat: Number(option.dataset.lat), lon: Number(option.dataset.lon),
          label: "depuis " + option.textContent };
      }
      return null;
    }

    function showDistance(item, metres) {
      var note = item.querySelector(".distance");
      if (metres === null) { if (note) { note.remove(); } return; }
      if (!note) {
        note = document.createElement("p");
        note.className = "distance";
        item.querySelector("h3").insertAdjacentElement("afterend", note);
      }
      note.textContent = distanceText(metres);
    }

    function place(from) {
      var ranked = homes.map(function (home) {
        var d = home.item.dataset, metres = null;
        if (from && d.lat) { metres = haversine(from.lat, from.lon, Number(d.lat), Number(d.lon)); }
        showDistance(home.item, metres);
        return { home: home, metres: metres };
      });
      if (!from || !groups.length) {
        homes.forEach(function (home) { home.parent.appendChild(home.item); });
        if (flat) { flat.hidden = true; }
        return false;
      }
      ranked.sort(function (a, b) {  /* venues without coordinates last, in their usual order */
        if (a.metres === null || b.metres === null) {
          return (a.metres === null) - (b.metres === null) || a.home.index - b.home.index;
        }
        return a.metres - b.metres;
      });
      if (options.flatten) {
        if (!flat) {
          flat = document.createElement("section");
          flat.setAttribute("aria-labelledby", options.form + "-tri");
          flat.innerHTML = "<h2 id=\"" + options.form + "-tri\"></h2><ol class=\"venue-list\"></ol>";
          groups[0].parentNode.insertBefore(flat, groups[0]);
        }
        flat.hidden = false;
        flat.querySelector("h2").textContent = "Du plus proche au plus loin, " + from.label;
        ranked.forEach(function (r) { flat.querySelector("ol").appendChild(r.home.item); });
      } else {
        ranked.forEach(function (r) { r.home.parent.appendChild(r.home.item); });
      }
      return true;
    }

    function apply() {
      var now = parisNow(form.dataset.fuseau || "Europe/Paris"), shown = 0;
      var from = origin(), sorted = place(from);
      items.forEach(function (item) {
        var state = null;
        if (item.dataset.horaires) {
          state = openState(spansOf(item), now, holidays, item.dataset.feries === "ferme");
          var badge = item.querySelector(".tag-maintenant");
          if (!badge && state.text) {
            badge = document.createElement("li");
            item.querySelector(".tags").insertBefore(badge, item.querySelector(".tags").firstChild);
          }
          if (badge) {
            badge.className = "tag-maintenant" + (state.open ? " is-open" : "");
            badge.textContent = state.text;
          }
        }
        var ok = options.matches(form, item.dataset, state);
        item.hidden = !ok;
        if (ok) { shown += 1; }
      });
      groups.forEach(function (group) {
        group.hidden = sorted && options.flatten ||
          !group.querySelector(options.items + ":not([hidden])");
      });
      var told = shown + " " + (shown > 1 ? options.words[1] : options.words[0]) +
        (from ? ", du plus proche au plus loin " + from.label : "") + ".";
      if (status.textContent !== told) { status.textContent = told; }  /* announced once */
      searchElsewhere(document.getElementById(options.elsewhere), form.texte, shown);
    }

    function query() {
      var params = new URLSearchParams();
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name) { return; }
        if (field.type === "checkbox") {
          if (field.checked) { params.set(field.name, "oui"); }
        } else if (field.value) {
          params.set(field.name, field.value);
        }
      });
      var text = params.toString();
      return text ? "?" + text : location.pathname;
    }

    function restore() {
      var params = new URLSearchParams(location.search);
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name) { return; }
        if (field.type === "checkbox") {
          field.checked = params.get(field.name) === "oui";
        } else if (field.tagName === "SELECT") {
          var value = params.get(field.name) || "";
          field.value = Array.prototype.some.call(field.options, function (o) {
            return o.value === value;
          }) ? value : "";
        } else {
          field.value = params.get(field.name) || "";
        }
      });
      /* Criteria folded away are shown when the address uses one of them. */
      Array.prototype.forEach.call(form.querySelectorAll("details"), function (more) {
        if (more.querySelector("input:checked, option:checked:not([value=''])")) {
          more.open = true;
        }
      });
    }

    function remember(push) {
      var target = query();
      if (target === (location.search || location.pathname)) { return; }
      history[push ? "pushState" : "replaceState"](null, "", target);
    }

    if (nearButton && navigator.geolocation) {
      nearButton.addEventListener("click", function () {
        message.textContent = "Recherche de votre position…";
        navigator.geolocation.getCurrentPosition(function (found) {
          position = { lat: found.coords.latitude, lon: found.coords.longitude,
            label: "de votre position" };
          if (options.sortField) { form[options.sortField].value = ""; }
          remember(true);
          message.textContent = "Liste classée du plus proche au plus loin de votre position.";
          apply();
        }, function (error) {
          position = null;
          message.textContent = (error.code === 1
            ? "Vous n'avez pas autorisé la localisation. "
            : "Votre position n'a pas pu être trouvée. ") +
            options.refused;
          apply();
        }, { timeout: 10000, maximumAge: 600000 });
      });
    } else if (nearButton) {
      nearButton.parentNode.hidden = true;
    }

    form.addEventListener("input", function (event) {
      if (event.target.type === "search") { remember(false); apply(); }
    });
    form.addEventListener("change", function (event) {
      if (event.target.name === options.sortField) { position = null; message.textContent = ""; }
      remember(true);
      apply();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      remember(true);
      apply();
    });
    window.addEventListener("popstate", function () { restore(); apply(); });
    restore();
    apply();
    /* « Ouvert maintenant » follows the clock while the page stays open. */
    window.setInterval(apply, 60000);
  }

  setup({ form: "filtres-lieux", items: ".venue-card", groups: ".commune-group",
    status: "f-resultat", message: "f-position", near: "f-autour", flatten: true,
    elsewhere: "f-ailleurs",
    /* The select whose commune the list is sorted from (its options carry the town hall). */
    sortField: "commune",
    refused: "Choisissez votre commune ou tapez votre code postal : la liste reste utilisable.",
    words: ["lieu correspond à votre recherche", "lieux correspondent à votre recherche"],
    matches: function (form, d, state) {
      var text = words(form.texte.value), facets = (d.facettes || "").split(" ");
      var postcode = /^\d{5}$/.test(text) && Array.prototype.some.call(form.commune.options,
        function (o) { return (o.dataset.cp || "").split(" ").indexOf(text) !== -1; });
      var checked = ["samedi", "soir", "midi", "semaine"].every(function (name) {
        return !form[name].checked || facets.indexOf(name) !== -1;
      });
      return checked && has(d.services, form.service.value) && has(d.publics, form.public.value) &&
        (!form.dispositif || has(d.dispositifs, form.dispositif.value)) &&
        ["pass", "acces", "gratuit", "rdv", "itinerant"].every(function (name) {
          return !form[name].checked || d[name] === "oui";
        }) &&
        (!form.maintenant.checked || (state !== null && state.open)) &&
        (!text || postcode || text.split(" ").every(function (word) {
          return d.texte.indexOf(word) !== -1;
        }));
    } });

  setup({ form: "filtres-ateliers", items: "article.session", groups: "section.day",
    status: "a-resultat", message: "a-position", near: "a-autour", flatten: false,
    sortField: "pres",
    refused: "Choisissez une commune dans « Près de quelle commune ? » : la liste reste utilisable, par date.",
    words: ["atelier correspond à votre recherche", "ateliers correspondent à votre recherche"],
    matches: function (form, d) {
      return (!form.commune.value || d.commune === form.commune.value) &&
        (!form.theme.value || d.theme === form.theme.value) &&
        (!form.public.value || d.public === form.public.value);
    } });
}());
