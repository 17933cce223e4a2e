import { createShopApp } from './app.js';
import { openShopDb } from './shop-db.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`koa-shop: set ${name} (see examples/koa-shop/README.md)`);
    process.exit(1);
  }
  return value;
}

const db = openShopDb(process.env.SHOP_DB ?? 'koa-shop.db');
const app = createShopApp({
  db,
  weappPay: { url: required('WEAPP_PAY_URL'), apiKey: required('WEAPP_PAY_API_KEY') },
  webhookSecret: required('WEAPP_PAY_WEBHOOK_SECRET'),
});
const port = Number(process.env.PORT ?? 4000);
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`koa-shop listening on ${typeof address === 'object' && address ? address.port : port}`);
});
process.on('SIGTERM', () => server.close(() => db.close()));
