/**
 * What socket.io's default parser writes for one binary attachment in the JSON
 * part of a packet (`{"_placeholder":true,"num":0}`).
 */
const PLACEHOLDER = { _placeholder: true, num: 0 };

function isBinary(value: unknown): value is Uint8Array | ArrayBuffer {
  return value instanceof Uint8Array || value instanceof ArrayBuffer;
}

/** Bytes of the binary attachments of a message: the sum of byteLength over its Uint8Array/ArrayBuffer fields, nested ones included. */
export function binaryBytes(message: unknown): number {
  if (isBinary(message)) return message.byteLength;
  if (typeof message !== 'object' || message === null) return 0;
  let total = 0;
  for (const value of Object.values(message)) total += binaryBytes(value);
  return total;
}

/**
 * Estimated size of a socket.io event on the wire: the binary attachments
 * exactly, plus the JSON text of the event name and the message with each
 * attachment replaced by its placeholder, plus 8 bytes for the packet type, ack
 * id and brackets. WebSocket frame headers (2-14 bytes a frame) are not counted,
 * so this is a slight underestimate: good enough for a bytes-up/down counter.
 */
export function estimatedMessageBytes(event: string, message: unknown): number {
  return binaryBytes(message) + JSON.stringify([event, withPlaceholders(message)]).length + 8;
}

/**
 * A copy with every attachment replaced by its placeholder. Done before
 * JSON.stringify rather than in a replacer, because stringify calls a Buffer's
 * `toJSON` (which lists every byte) before the replacer sees it.
 */
function withPlaceholders(value: unknown): unknown {
  if (isBinary(value)) return PLACEHOLDER;
  if (Array.isArray(value)) return value.map(withPlaceholders);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, withPlaceholders(field)]),
  );
}
