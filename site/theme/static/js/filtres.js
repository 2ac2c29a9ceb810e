/* Filters for the venue directory and the workshop list. Without JavaScript the full lists stay
   usable; with it, a form appears and hides what does not match. No network, no storage. */
(function () {
  "use strict";

  function has(list, value) { return !value || (list || "").split("|").indexOf(value) !== -1; }

  function setup(formId, itemSelector, groupSelector, statusId, matches, words) {
    var form = document.getElementById(formId);
    if (!form) { return; }
    form.hidden = false;
    var items = Array.prototype.slice.call(document.querySelectorAll(itemSelector));
    var groups = Array.prototype.slice.call(document.querySelectorAll(groupSelector));
    var status = document.getElementById(statusId);

    function apply() {
      var shown = 0;
      items.forEach(function (item) {
        var ok = matches(form, item.dataset);
        item.hidden = !ok;
        if (ok) { shown += 1; }
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector(itemSelector + ":not([hidden])");
      });
      status.textContent = shown + " " + (shown > 1 ? words[1] : words[0]) + ".";
    }

    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  }

  setup("filtres-lieux", ".venue-card", ".commune-group", "f-resultat", function (form, d) {
    var text = form.texte.value.trim().toLowerCase();
    return (!form.commune.value || d.commune === form.commune.value) &&
      has(d.services, form.service.value) && has(d.publics, form.public.value) &&
      (!form.pass.checked || d.pass === "oui") && (!form.acces.checked || d.acces === "oui") &&
      (!text || d.texte.indexOf(text) !== -1);
  }, ["lieu correspond à votre recherche", "lieux correspondent à votre recherche"]);

  setup("filtres-ateliers", "article.session", "section.day", "a-resultat", function (form, d) {
    return (!form.commune.value || d.commune === form.commune.value) &&
      (!form.theme.value || d.theme === form.theme.value) &&
      (!form.public.value || d.public === form.public.value);
  }, ["atelier correspond à votre recherche", "ateliers correspondent à votre recherche"]);
}());
