/* « Copier le lien » on a venue page: progressive enhancement. Without JavaScript the page's
   address stays shown as text; with it, a button copies that text. No network, no storage. */
(function () {
  "use strict";
  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function copied(status, done) {
    status.textContent = done ? "Lien copié." : "Le lien est sélectionné : copiez-le avec votre appareil.";
  }
  document.querySelectorAll("button[data-copie]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copie"));
    var status = button.parentNode.querySelector(".copy-status");
    if (!source || !status) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(status, true); },
          function () { selectText(source); copied(status, false); });
      } else {
        selectText(source);
        var done = false;
        try { done = document.execCommand("copy"); } catch (error) { done = false; }
        copied(status, done);
      }
    });
  });
}());
