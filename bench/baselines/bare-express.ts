// Baseline: Express with the web tier's middleware (helmet, express-rate-limit, urlencoded) answering a form post with 303.
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';

const app = express();
app.use(helmet());
app.use(rateLimit({ windowMs: 60_000, limit: 1_000_000_000, standardHeaders: 'draft-8', legacyHeaders: false }));
app.post('/orders', express.urlencoded({ extended: false, limit: 8192 }), (_req, res) => {
  res.redirect(303, '/orders/00000000-0000-4000-8000-000000000000');
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
