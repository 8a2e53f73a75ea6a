// Refreshes the console's panels in place, keeping any mail the reader has opened.
(function () {
  'use strict';
  var state = document.getElementById('state');
  if (!state) return;

  function refresh() {
    fetch('/?partial=1', { cache: 'no-store' })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var open = Array.prototype.map.call(state.querySelectorAll('details[open]'), function (element) { return element.id; });
        state.innerHTML = html;
        open.forEach(function (id) {
          var element = document.getElementById(id);
          if (element) element.open = true;
        });
      })
      .catch(function () { /* the stack may be restarting; try again next time */ })
      .then(function () { setTimeout(refresh, 2000); });
  }

  setTimeout(refresh, 2000);
})();
