// Keeps the staff's board current without reloading: a GraphQL subscription says when the open
// orders change, and the board is fetched again (rendered by the server, as the page was) and
// merged card by card, so a reason being typed into a card that did not change is kept.
(function () {
  'use strict';
  var page = document.getElementById('staff-board-page');
  if (!page) return;
  var SUBSCRIPTION = 'subscription { openOrders { id version } }';

  function shown() {
    return Array.prototype.map.call(document.querySelectorAll('#board .board-order'), function (card) {
      return card.getAttribute('data-order-id') + ':' + card.getAttribute('data-version');
    }).sort().join(',');
  }

  function merge(html) {
    var template = document.createElement('template');
    template.innerHTML = html;
    var fresh = template.content.getElementById('board');
    var board = document.getElementById('board');
    if (!fresh || !board) return;
    var focused = document.activeElement && document.activeElement.id;
    Array.prototype.forEach.call(fresh.querySelectorAll('.board-order'), function (card) {
      var old = document.getElementById(card.id);
      if (old && old.getAttribute('data-version') === card.getAttribute('data-version')) card.parentNode.replaceChild(old, card);
    });
    board.parentNode.replaceChild(fresh, board);
    var note = document.getElementById('board-truncated');
    if (note) note.parentNode.removeChild(note);
    var freshNote = template.content.getElementById('board-truncated');
    if (freshNote) fresh.parentNode.appendChild(freshNote);
    var again = focused && document.getElementById(focused);
    if (again) again.focus();
  }

  // The board is no longer theirs (signed out, or no longer staff): said once, and no more reads.
  var ended = false;
  function end() {
    ended = true;
    var hint = document.getElementById('board-hint');
    if (hint) hint.textContent = 'This board no longer updates: your session ended. Reload the page to sign in again.';
  }

  function refresh() {
    return fetch('/staff/board', { headers: { Accept: 'text/html' }, cache: 'no-store', credentials: 'same-origin' })
      .then(function (response) {
        if (response.redirected || response.status === 404 || response.status === 401) return end();
        return response.ok ? response.text().then(merge) : undefined;
      });
  }

  // Without a stream: the board read every few seconds.
  function poll() {
    if (ended) return;
    refresh().then(function () { if (!ended) setTimeout(poll, 3000); }, function () { setTimeout(poll, 5000); });
  }

  if (typeof EventSource === 'undefined') return poll();
  var source = new EventSource('/graphql/stream?query=' + encodeURIComponent(SUBSCRIPTION));
  source.addEventListener('next', function (event) {
    var result = JSON.parse(event.data);
    var orders = result && result.data ? result.data.openOrders : null;
    if (!orders) return;
    var now = orders.map(function (order) { return order.id + ':' + order.version; }).sort().join(',');
    if (now !== shown()) refresh();
  });
  // The stream ends with the session (or a refused one never opens): the board is polled instead.
  source.addEventListener('complete', function () {
    source.close();
    poll();
  });
  source.onerror = function () {
    if (source.readyState === 2) poll();
  };
})();
