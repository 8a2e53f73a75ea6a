// Follows an order until it is processed, without reloading the page.
(function () {
  'use strict';
  var root = document.getElementById('order-status');
  if (!root) return;
  var orderId = root.getAttribute('data-order-id');
  var money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  var startedAt = Date.now();
  var SLOW_AFTER_MS = 20000;
  var GIVE_UP_AFTER_MS = 10 * 60 * 1000;

  function text(id, value) {
    var element = document.getElementById(id);
    if (element) element.textContent = value;
  }

  function showProcessed(order) {
    root.setAttribute('data-status', order.status);
    text('status-title', 'Your order is processed');
    text('status-text', order.status);
    text('status-hint', 'Thank you for your order.');
    text('detail-product', order.product_name);
    text('detail-quantity', String(order.quantity));
    text('detail-total', money.format(order.total_cents / 100));
    text('detail-customer', order.customer_id);
    text('detail-date', order.order_date);
    document.getElementById('order-details').hidden = false;
    var step = document.getElementById('step-processed');
    step.className = 'step done';
    step.removeAttribute('aria-current');
  }

  function showSlow() {
    root.setAttribute('data-slow', 'true');
    text(
      'status-hint',
      'This is taking longer than usual. Your order is safe in the queue; keep this page open, ' +
        'or come back later and use "Find my order" with the number above.',
    );
  }

  function schedule(attempt) {
    var elapsed = Date.now() - startedAt;
    if (elapsed > SLOW_AFTER_MS) showSlow();
    if (elapsed > GIVE_UP_AFTER_MS) return;
    setTimeout(function () { poll(attempt + 1); }, attempt < 20 ? 1000 : 5000);
  }

  function poll(attempt) {
    fetch('/orders/' + encodeURIComponent(orderId), { headers: { Accept: 'application/json' }, cache: 'no-store' })
      .then(function (response) {
        if (response.status === 200) return response.json();
        return null;
      })
      .then(function (order) {
        if (order && order.status === 'PROCESSED') showProcessed(order);
        else schedule(attempt);
      })
      .catch(function () { schedule(attempt); });
  }

  poll(0);
})();
