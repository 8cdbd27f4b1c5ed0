import { describe, expect, it } from 'vitest';
import { binaryBytes, estimatedMessageBytes } from './envelope.js';

describe('estimatedMessageBytes', () => {
  it('counts attachments exactly and the JSON part as socket.io writes it', () => {
    const message = { type: 'update', seq: 7, payload: new Uint8Array(1000) };
    // ["update",{"type":"update","seq":7,"payload":{"_placeholder":true,"num":0}}] is 76 characters
    const json = '["update",{"type":"update","seq":7,"payload":{"_placeholder":true,"num":0}}]';
    expect(json.length).toBe(76);
    expect(estimatedMessageBytes('update', message)).toBe(1000 + 76 + 8);
  });

  it('treats a Node Buffer as an attachment, not as its toJSON byte list', () => {
    const small = estimatedMessageBytes('x', { payload: Buffer.alloc(10_000) });
    expect(small).toBeLessThan(10_000 + 100);
    expect(
      binaryBytes({ a: Buffer.alloc(3), b: { c: new ArrayBuffer(5) }, d: [new Uint8Array(2)] }),
    ).toBe(10);
  });
});
