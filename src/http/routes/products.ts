import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Catalogue } from '../../catalogue/catalogue.js';

export async function productRoutes(app: FastifyInstance, deps: { catalogue: Catalogue }): Promise<void> {
  const body = { products: deps.catalogue.list().map((p) => ({ ...p, currency: 'CNY' as const })) };
  app.get(
    '/api/products',
    {
      config: { auth: 'user' },
      schema: {
        summary: 'The catalogue; prices are integer fen',
        response: {
          200: Type.Object({
            products: Type.Array(
              Type.Object({
                sku: Type.String(),
                name: Type.String(),
                description: Type.String(),
                price: Type.Integer(),
                currency: Type.Literal('CNY'),
              }),
            ),
          }),
        },
      },
    },
    async () => body,
  );
}
