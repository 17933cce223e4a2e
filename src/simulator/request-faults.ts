import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ChosenFault, type FaultName, headerFault, numParam } from './faults.js';

/**
 * Faults that act on the HTTP exchange itself rather than on WeChat's answer: an error status, an
 * HTML error page from a proxy, a request left hanging, a connection reset after the call was
 * applied, an answer that comes late, an answer cut off mid-body.
 */

export type FaultChoice = { fault: ChosenFault | undefined } | { error: string };

/**
 * The fault for this request: the `X-Sim-Fault` header wins; otherwise a persistent rule from
 * `takePersistent` (which uses it up). A header naming a fault this route cannot play is an error.
 */
export function resolveFault(
  request: FastifyRequest,
  applicable: readonly FaultName[],
  takePersistent: () => ChosenFault | undefined,
): FaultChoice {
  const fromHeader = headerFault(request.headers);
  if (fromHeader && 'error' in fromHeader) return { error: fromHeader.error };
  if (fromHeader) {
    if (!applicable.includes(fromHeader.fault)) {
      return {
        error: `fault ${fromHeader.fault} does not apply here; this route plays ${applicable.join(', ')}`,
      };
    }
    return { fault: fromHeader };
  }
  return { fault: takePersistent() };
}

const HTML_502 = `<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n`;

/**
 * Plays `fault` if it acts at this `phase`; returns true when the reply has been taken care of.
 * 'before' faults answer without applying the call; 'after' ones apply it, then cut the line.
 */
export async function answerTransportFault(
  chosen: ChosenFault,
  request: FastifyRequest,
  reply: FastifyReply,
  phase: 'before' | 'after',
  /** Sockets of hanging requests, destroyed when the simulator closes. */
  hungSockets: Set<Socket>,
): Promise<boolean> {
  const socket = request.raw.socket;
  if (phase === 'before') {
    switch (chosen.fault) {
      case 'HTTP_500':
        await reply.code(500).type('text/plain; charset=utf-8').send('Internal Server Error');
        return true;
      case 'HTML_502':
        await reply.code(502).type('text/html').send(HTML_502);
        return true;
      case 'HANG':
        reply.hijack();
        hungSockets.add(socket);
        // No answer at all: the client's own timeout is what ends this.
        await new Promise<void>((resolve) => {
          if (socket.destroyed) resolve();
          else socket.once('close', () => resolve());
        });
        hungSockets.delete(socket);
        return true;
      default:
        return false;
    }
  }
  switch (chosen.fault) {
    case 'RESET_AFTER_APPLY':
      reply.hijack();
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
      return true;
    case 'SLOW_RESPONSE':
      // Real seconds, never scaled: what it tests is the client's own (real) timeout.
      await holdOpen(socket, numParam(chosen.params, 'seconds', 10) * 1000, hungSockets);
      if (!socket.destroyed) return false;
      reply.hijack();
      return true;
    case 'PARTIAL_BODY':
      reply.hijack();
      sendPartial(request, reply, socket);
      return true;
    default:
      return false;
  }
}

/** Waits `ms`, or less if the client hangs up first. */
async function holdOpen(socket: Socket, ms: number, hungSockets: Set<Socket>): Promise<void> {
  hungSockets.add(socket);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (socket.destroyed) done();
    else socket.once('close', done);
  });
  hungSockets.delete(socket);
}

/**
 * The status line, the headers (announcing the whole body's length) and the first bytes of a
 * successful answer, then the connection is destroyed: the client cannot know what was answered.
 */
function sendPartial(request: FastifyRequest, reply: FastifyReply, socket: Socket): void {
  const json = request.url.startsWith('/v3/') || request.url.startsWith('/sns/');
  const part = json
    ? '{"appid":"wx'
    : '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg><app';
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': json ? 'application/json; charset=utf-8' : 'text/xml; charset=utf-8',
    'content-length': String(part.length * 4),
  });
  res.write(part, () => socket.destroy());
}
