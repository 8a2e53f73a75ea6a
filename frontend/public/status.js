// Follows an order through its life without reloading the page.
(function () {
  'use strict';
  var root = document.getElementById('order-status');
  if (!root) return;
  var orderId = root.getAttribute('data-order-id');
  // How long the server said to wait for a just-placed order to be stored; 0 when it is stored already.
  var waitMs = Number(root.getAttribute('data-wait-ms') || 0);
  var giveUpAt = Date.now() + waitMs;
  var money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  var FINAL = { COMPLETED: true, CANCELLED: true };

  function text(id, value) {
    var element = document.getElementById(id);
    if (element) element.textContent = value;
  }

  function show(order) {
    if (Number(root.getAttribute('data-version')) >= order.version) return;
    root.setAttribute('data-status', order.status);
    root.setAttribute('data-version', String(order.version));
    var reached = {};
    order.status_history.forEach(function (entry) { reached[entry.status] = true; });
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
    text('status-text', order.status);
    text('status-hint', FINAL[order.status] ? 'Thank you for your order.' : 'This page follows your order as it moves on.');
    text('detail-product', order.product_name);
    text('detail-quantity', String(order.quantity));
    text('detail-total', money.format(order.total_cents / 100));
    text('detail-customer', order.customer_id);
    text('detail-date', order.order_date);
    document.getElementById('order-details').hidden = false;
    document.getElementById('history-title').hidden = false;
    var history = document.getElementById('status-history');
    history.textContent = '';
    order.status_history.forEach(function (entry) {
      var item = document.createElement('li');
      item.setAttribute('data-status', entry.status);
      var strong = document.createElement('strong');
      strong.textContent = entry.status;
      var time = document.createElement('time');
      time.setAttribute('datetime', entry.at);
      time.textContent = entry.at.replace('T', ' ').slice(0, 19) + ' UTC';
      item.appendChild(strong);
      item.appendChild(document.createTextNode(' '));
      item.appendChild(time);
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

  function poll() {
    fetch('/orders/' + encodeURIComponent(orderId), { headers: { Accept: 'application/json' }, cache: 'no-store' })
      .then(function (response) { return response.status === 200 ? response.json() : null; })
      .then(function (order) {
        if (order) show(order);
        else if (Date.now() > giveUpAt) return notFound();
        if (!order || !FINAL[order.status]) setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  poll();
})();
