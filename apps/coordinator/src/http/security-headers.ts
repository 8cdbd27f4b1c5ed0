import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The Content-Security-Policy of the served pages. What the built client needs:
 * module scripts and the training engine's module Web Worker from 'self';
 * WebAssembly compilation for the tfjs WASM backend ('wasm-unsafe-eval', which
 * allows wasm but not JS eval); same-origin fetch and websocket (shards,
 * weights, socket.io); inline style attributes (React and uPlot set
 * `style=`). WebGPU needs no directive. Nothing else is loaded from anywhere.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

/**
 * Security headers on every answer (helmet): the CSP above, no MIME sniffing,
 * no framing, no referrer to other sites. No HSTS and no
 * `upgrade-insecure-requests`: the coordinator speaks plain HTTP on localhost
 * (WebGPU's secure context) and TLS, where used, ends at a proxy that sets them.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  // Fastify loads plugins in order when the server starts; nothing to await here.
  void app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: CONTENT_SECURITY_POLICY as unknown as Record<string, string[]>,
    },
    hsts: false,
    // tf.loadLayersModel in a page of an allowed origin fetches exports cross-origin.
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
}
