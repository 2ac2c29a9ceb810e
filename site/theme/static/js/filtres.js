/* Filters for the venue directory. Without JavaScript the full list by commune stays usable;
   with it, the form appears and hides the venues that do not match. No network, no storage. */
(function () {
  "use strict";
  var form = document.getElementById("filtres-lieux");
  if (!form) { return; }
  form.hidden = false;
  var cards = Array.prototype.slice.call(document.querySelectorAll(".venue-card"));
  var groups = Array.prototype.slice.call(document.querySelectorAll(".commune-group"));
  var status = document.getElementById("f-resultat");

  function has(list, value) { return !value || list.split("|").indexOf(value) !== -1; }

  function apply() {
    var text = form.texte.value.trim().toLowerCase();
    var shown = 0;
    cards.forEach(function (card) {
      var d = card.dataset;
      var ok = (!form.commune.value || d.commune === form.commune.value) &&
        has(d.services, form.service.value) && has(d.publics, form.public.value) &&
        (!form.pass.checked || d.pass === "oui") && (!form.acces.checked || d.acces === "oui") &&
        (!text || d.texte.indexOf(text) !== -1);
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector(".venue-card:not([hidden])");
    });
    status.textContent = shown + (shown > 1 ? " lieux correspondent" : " lieu correspond") + " à votre recherche.";
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
}());
