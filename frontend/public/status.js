// Follows an order through its life without reloading the page: a GraphQL subscription over
// server-sent events, or, where the stream cannot open, the same query polled.
(function () {
  'use strict';
  var root = document.getElementById('order-status');
  if (!root) return;
  var orderId = root.getAttribute('data-order-id');
  // How long the server said to wait for a just-placed order to be stored; 0 when it is stored already.
  var waitMs = Number(root.getAttribute('data-wait-ms') || 0);
  var giveUpAt = Date.now() + waitMs;
  var FIELDS = '{ id status version final cancellable total orderDate receivedAt customerName statusHistory { status at byRole reason } lines { productName quantity unitPrice total } }';
  var SUBSCRIPTION = 'subscription Follow($id: OrderId!, $wait: Int) { orderStatus(id: $id, waitSeconds: $wait) ' + FIELDS + ' }';
  var QUERY = 'query Read($id: OrderId!) { order(id: $id) ' + FIELDS + ' }';

  // As the page writes a time (status.ejs): UTC, to the second.
  function time(iso) {
    return iso.replace('T', ' ').slice(0, 19) + ' UTC';
  }

  function text(id, value) {
    var element = document.getElementById(id);
    if (element) element.textContent = value;
  }

  function show(order) {
    if (Number(root.getAttribute('data-version')) >= order.version) return;
    root.setAttribute('data-status', order.status);
    root.setAttribute('data-version', String(order.version));
    var reached = {};
    order.statusHistory.forEach(function (entry) { reached[entry.status] = true; });
    if (order.status === 'CANCELLED' && !document.getElementById('step-CANCELLED')) {
      var steps = document.getElementById('steps');
      Array.prototype.slice.call(steps.children, 1).forEach(function (step) { steps.removeChild(step); });
      steps.appendChild(document.getElementById('cancelled-step').content.cloneNode(true));
    }
    Array.prototype.forEach.call(document.querySelectorAll('#steps .step'), function (step) {
      var status = step.getAttribute('data-status');
      step.className = 'step ' + (reached[status] ? 'done' : 'todo') + (status === order.status ? ' current' : '');
      if (status === order.status) {
        step.setAttribute('aria-current', 'step');
        text('status-title', step.getAttribute('data-title'));
      } else {
        step.removeAttribute('aria-current');
      }
    });
    // Shown while the viewer may cancel it (the server says: their own, not yet started); gone after.
    var cancel = document.getElementById('cancel-order');
    if (cancel && order.cancellable) cancel.hidden = false;
    else if (cancel) cancel.parentNode.removeChild(cancel);
    text('status-text', order.status);
    text('status-hint', order.status === 'CANCELLED' ? 'Nothing of this order will be prepared.' : order.final ? 'Thank you for your order.' : 'This page follows your order as it moves on.');
    var lines = document.getElementById('receipt-lines');
    lines.textContent = '';
    order.lines.forEach(function (line) {
      var row = document.createElement('tr');
      var name = document.createElement('th');
      name.setAttribute('scope', 'row');
      name.textContent = line.productName;
      row.appendChild(name);
      [String(line.quantity), line.unitPrice, line.total].forEach(function (value) {
        var cell = document.createElement('td');
        cell.className = 'num';
        cell.textContent = value;
        row.appendChild(cell);
      });
      lines.appendChild(row);
    });
    text('detail-total', order.total);
    text('detail-customer', order.customerName || '');
    text('detail-placed', time(order.receivedAt));
    document.getElementById('detail-placed').setAttribute('datetime', order.receivedAt);
    text('detail-date', order.orderDate);
    document.getElementById('receipt').hidden = false;
    document.getElementById('order-details').hidden = false;
    document.getElementById('history-title').hidden = false;
    var history = document.getElementById('status-history');
    history.textContent = '';
    order.statusHistory.forEach(function (entry) {
      var item = document.createElement('li');
      item.setAttribute('data-status', entry.status);
      var strong = document.createElement('strong');
      strong.textContent = entry.status;
      var at = document.createElement('time');
      at.setAttribute('datetime', entry.at);
      at.textContent = time(entry.at);
      item.appendChild(strong);
      item.appendChild(document.createTextNode(' '));
      item.appendChild(at);
      if (entry.byRole) {
        var by = document.createElement('span');
        by.className = 'by';
        by.textContent = entry.byRole === 'customer' ? 'by you' : 'by the shop';
        item.appendChild(document.createTextNode(' '));
        item.appendChild(by);
      }
      if (entry.reason) {
        var reason = document.createElement('span');
        reason.className = 'reason';
        reason.textContent = entry.reason;
        item.appendChild(document.createTextNode(': '));
        item.appendChild(reason);
      }
      history.appendChild(item);
    });
  }

  function notFound() {
    root.setAttribute('data-not-found', 'true');
    text('status-title', 'No order with this number was found');
    text('status-text', 'NOT FOUND');
    text('status-hint', 'We have no order stored under this number. Check it against the number you were given; ' +
      'if you placed it just now and it still cannot be found, place the order again.');
  }

  // Without a stream (an old proxy, too many open): the same order, read every few seconds.
  function poll() {
    fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ query: QUERY, variables: { id: orderId } }),
      cache: 'no-store',
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        var order = result && result.data ? result.data.order : null;
        if (order) show(order);
        else if (Date.now() > giveUpAt) return notFound();
        if (!order || !order.final) setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }

  function follow() {
    if (typeof EventSource === 'undefined') return poll();
    var variables = { id: orderId, wait: Math.ceil(waitMs / 1000) };
    var source = new EventSource('/graphql/stream?query=' + encodeURIComponent(SUBSCRIPTION) + '&variables=' + encodeURIComponent(JSON.stringify(variables)));
    var ended = false;
    source.addEventListener('next', function (event) {
      var result = JSON.parse(event.data);
      var order = result && result.data ? result.data.orderStatus : undefined;
      if (order) show(order);
      else if (order === null) notFound();
    });
    source.addEventListener('complete', function () {
      ended = true;
      source.close();
    });
    source.onerror = function () {
      // The browser reconnects by itself after a dropped connection; a refused one stays closed.
      if (!ended && source.readyState === 2) poll();
    };
    // The server ends the stream with a null once its wait is over; the page keeps its own time too.
    if (waitMs > 0) {
      setTimeout(function () {
        if (Number(root.getAttribute('data-version')) > 0) return;
        ended = true;
        source.close();
        notFound();
      }, waitMs + 2000);
    }
  }

  follow();
})();
