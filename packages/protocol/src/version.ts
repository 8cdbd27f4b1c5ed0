/**
 * Version of the wire protocol described in this package. Bump it on any
 * change a peer of the previous version would misread; the coordinator refuses
 * a `hello` that carries another version with a `protocol-version` error.
 */
export const PROTOCOL_VERSION = 4;

/** Outcome of {@link checkProtocolVersion}. */
export type ProtocolVersionCheck =
  { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * The handshake check: exact match, because a worker of another version could
 * encode updates the coordinator misreads, and a silent mismatch would corrupt
 * the global model. The message tells the volunteer what to do.
 */
export function checkProtocolVersion(peerVersion: number): ProtocolVersionCheck {
  if (peerVersion === PROTOCOL_VERSION) return { ok: true };
  const advice =
    peerVersion < PROTOCOL_VERSION
      ? 'the worker is older than the coordinator: reload the page (or update the headless worker)'
      : 'the worker is newer than the coordinator: the coordinator needs an upgrade';
  return {
    ok: false,
    message: `protocol version mismatch: worker speaks ${peerVersion}, coordinator speaks ${PROTOCOL_VERSION}; ${advice}`,
  };
}
