/**
 * The shop screen: the catalogue as the service prices it. The page sends only sku and
 * quantity; the amount on the order comes from the server's catalogue.
 */
import { h, replaceChildren } from './dom.js';
import { formatFen } from './i18n.js';

const MAX_QUANTITY = 9;

export function createShopPage({ root, i18n, onBuy }) {
  let products = null;
  let message = null;
  const quantities = new Map();

  function render() {
    const t = i18n.t;
    if (message) {
      replaceChildren(root, h('p', { class: 'shop-message', 'data-testid': 'shop-message' }, t(message)));
      return;
    }
    if (!products) {
      replaceChildren(root, h('div', { class: 'hero tone-busy' }, h('div', { class: 'spinner' })));
      return;
    }
    replaceChildren(
      root,
      h('h2', { class: 'shop-heading' }, t('shop.heading')),
      products.map((p) => productCard(p, t)),
      h('p', { class: 'shop-footnote' }, t('shop.footnote')),
    );
  }

  function productCard(product, t) {
    const qty = quantities.get(product.sku) ?? 1;
    const setQty = (n) => {
      quantities.set(product.sku, Math.min(MAX_QUANTITY, Math.max(1, n)));
      render();
    };
    return h(
      'article',
      { class: 'card product', 'data-testid': `product-${product.sku}` },
      h('div', { class: 'product-thumb', 'aria-hidden': 'true' }, product.name.slice(0, 1)),
      h(
        'div',
        { class: 'product-body' },
        h('h3', { class: 'product-name' }, product.name),
        h('p', { class: 'product-desc' }, product.description),
        h(
          'div',
          { class: 'product-row' },
          h('span', { class: 'price', 'data-testid': `price-${product.sku}` }, formatFen(product.price)),
          h(
            'span',
            { class: 'stepper' },
            h('button', { type: 'button', 'aria-label': '−', onClick: () => setQty(qty - 1) }, '−'),
            h('span', { class: 'qty', 'data-testid': `qty-${product.sku}` }, qty),
            h('button', { type: 'button', 'aria-label': '+', onClick: () => setQty(qty + 1) }, '+'),
          ),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-primary',
            'data-testid': `buy-${product.sku}`,
            onClick: () => onBuy(product, qty),
          },
          t('shop.buy'),
        ),
      ),
    );
  }

  i18n.onChange(render);
  render();
  return {
    setProducts(list) {
      products = list;
      message = null;
      render();
    },
    /** Shows one message (an i18n key) instead of the catalogue, e.g. when login failed. */
    setMessage(key) {
      message = key;
      render();
    },
  };
}
