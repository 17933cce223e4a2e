import type { FastifyInstance } from 'fastify';
import type { SimBehaviour } from './config.js';
import { checkKnobs } from './knobs.js';
import type { SimContext } from './sim-context.js';

/**
 * `GET /sim/knobs`, `POST /sim/knobs {name: value, …}` and `DELETE /sim/knobs`: the behaviour
 * knobs while the simulator runs. Every route reads `ctx.behaviour` when it answers, so a change
 * applies from the next call (a notification already planned keeps its schedule). A request with
 * any bad knob changes none; `DELETE` puts back the values the simulator started with.
 */
export function registerKnobRoutes(app: FastifyInstance, ctx: SimContext): void {
  const started: SimBehaviour = structuredClone(ctx.behaviour);
  const view = () => ({ knobs: ctx.behaviour });

  app.get('/sim/knobs', async () => view());

  app.post('/sim/knobs', async (request, reply) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return reply
        .code(400)
        .send({ error: 'body must be a JSON object of knobs, e.g. {"refundDelaySeconds": 5}' });
    }
    const checked = checkKnobs(ctx.behaviour, body as Record<string, unknown>);
    if ('problems' in checked) return reply.code(400).send({ error: checked.problems.join('; ') });
    Object.assign(ctx.behaviour, checked.ok);
    return view();
  });

  app.delete('/sim/knobs', async () => {
    Object.assign(ctx.behaviour, structuredClone(started));
    return view();
  });
}
