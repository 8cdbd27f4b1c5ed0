import { PROTOCOL_VERSION, ScheduleConfigSchema } from '@vtrain/protocol';

// The coordinator service (socket.io server, parameter server, persistence)
// lands with issue #3. Until then `pnpm start` reports what the workspace
// provides, so the Quick start command stays true and never fails.
const scheduleKinds = ScheduleConfigSchema.options.map((option) => option.shape.kind.value);

console.log(`vtrain coordinator: not yet a server.
  wire protocol version ${PROTOCOL_VERSION} (packages/protocol)
  schedule kinds of the run config: ${scheduleKinds.join(', ')}
  run the test suite: npx -y pnpm@10.34.8 test`);
