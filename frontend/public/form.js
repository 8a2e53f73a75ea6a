// Progressive enhancement of the order form: live total and one submission per click.
(function () {
  'use strict';
  var form = document.getElementById('order-form');
  if (!form) return;
  var product = document.getElementById('product_id');
  var quantity = document.getElementById('quantity');
  var total = document.getElementById('order-total');
  var submit = document.getElementById('submit-order');
  // The total updates as the customer types, so the no-JavaScript "Update total" button is not needed.
  var preview = document.getElementById('preview-total');
  if (preview) preview.hidden = true;
  var money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

  function updateTotal() {
    var option = product.options[product.selectedIndex];
    var cents = option ? Number(option.getAttribute('data-price-cents')) : NaN;
    var qty = Number(quantity.value);
    if (!cents || !Number.isInteger(qty) || qty < 1 || qty > 1000) {
      total.hidden = true;
      total.textContent = '';
      return;
    }
    total.hidden = false;
    total.textContent = 'Total: ' + money.format((cents * qty) / 100) + ' (' + qty + ' x ' + option.getAttribute('data-name') + ')';
  }

  product.addEventListener('change', updateTotal);
  quantity.addEventListener('input', updateTotal);
  updateTotal();

  form.addEventListener('submit', function (event) {
    if (event.submitter && event.submitter.value === 'preview') return;
    // The hidden idempotency key already makes a second post the same order; this spares the request.
    if (form.getAttribute('data-submitted') === 'true') {
      event.preventDefault();
      return;
    }
    form.setAttribute('data-submitted', 'true');
    submit.setAttribute('aria-disabled', 'true');
    submit.textContent = 'Placing order…';
  });
})();
