import * as z from 'zod';
import { UploadedInputSchema } from './datasets.js';
import {
  ModelSpecSchema,
  RunConfigSchema,
  RunDatasetNameSchema,
  UPLOAD_DATASET,
} from './run-config.js';

/*
 * Messages of the worker namespace. Each schema is the single source of its
 * TypeScript type (`z.output`) and of the runtime check the receiver runs.
 * Binary payloads travel as socket.io binary attachments and are decoded by
 * the codecs in ./codec; the schemas only check that they are bytes.
 */

/** Compute backends a worker may train on, best first. */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export const BackendSchema = z.enum(BACKENDS);
export type Backend = z.output<typeof BackendSchema>;

const id = () => z.string().min(1).max(64);
/**
 * The coordinator's restart epoch: a new value every time the coordinator
 * process starts (and so every time a run is re-opened from its checkpoint).
 * Versions count applied updates within one history; after a crash the run
 * resumes at its last checkpoint and the same version numbers are reached
 * again by different weights, so a version means something only together with
 * its epoch.
 */
const epoch = () => z.string().min(1).max(64);
const version = () => z.int().min(0);
const shortText = (max: number) => z.string().max(max);

/**
 * Binary attachment: Node's socket.io hands over a Buffer (a Uint8Array), a
 * browser's an ArrayBuffer. Both are normalised to a Uint8Array view, never
 * copied.
 */
export const BytesSchema = z
  .custom<Uint8Array | ArrayBuffer>(
    (value) => value instanceof Uint8Array || value instanceof ArrayBuffer,
    'expected binary data (a Uint8Array or an ArrayBuffer)',
  )
  .transform((bytes): Uint8Array => (bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes));

/** First message of a worker connection; answered with {@link Welcome} or {@link ErrorReply}. */
export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  protocolVersion: z.int(),
  client: z.strictObject({
    kind: z.enum(['browser', 'node']),
    /** Free text for the worker table, e.g. a trimmed user agent. */
    description: shortText(200).default(''),
  }),
  backend: BackendSchema,
  /** Why a better backend was not used (shown to the volunteer and researcher). */
  backendReason: shortText(300).optional(),
  capabilities: z
    .strictObject({
      hardwareConcurrency: z.int().min(1).max(4096).optional(),
      /** WebGPU adapter limit, when there is one. */
      maxBufferSize: z.int().min(0).optional(),
      adapter: shortText(200).optional(),
    })
    .prefault({}),
  /** Samples per second of a quick probe on the worker's backend, to size rounds. */
  speedProbe: z
    .strictObject({ samplesPerSecond: z.number().positive(), model: shortText(100) })
    .optional(),
  /** A worker that reconnects presents the identity it was given, to keep its error memory and seq. */
  resume: z.strictObject({ workerId: id(), secret: shortText(128) }).optional(),
});
export type Hello = z.output<typeof HelloSchema>;

/** Everything a worker needs to train for a run. */
export const AssignmentSchema = z.strictObject({
  runId: id(),
  runName: shortText(100),
  model: ModelSpecSchema,
  parameterCount: z.int().positive(),
  dataset: z
    .strictObject({
      name: RunDatasetNameSchema,
      /** HTTP path of this worker's shard (cacheable; its content never changes for a run). */
      shardUrl: shortText(500),
      shardIndex: z.int().min(0),
      shardCount: z.int().positive(),
      /** The uploaded set's input shape, dtype and classes: present with name `upload` only. */
      upload: UploadedInputSchema.optional(),
    })
    .refine((d) => (d.name === UPLOAD_DATASET) === (d.upload !== undefined), {
      message: 'dataset.upload comes with name "upload", and only then',
      path: ['upload'],
    }),
  training: RunConfigSchema.shape.training,
  compression: RunConfigSchema.shape.compression,
  /** Local steps per update: 1 means one gradient per update; more means local SGD. */
  localSteps: z.int().min(1),
  /**
   * Version 0 is built by the worker, not downloaded: the model from `model`
   * and `seed` (`buildInitialModel` of the ml package, the coordinator's own
   * construction), whose flat float32 weights, little-endian, have this SHA-256
   * (64 hex digits). On a match the worker pulls with `haveVersion: 0` and gets
   * a patch; on a mismatch it pulls the dense weights.
   */
  initialWeights: z.strictObject({
    seed: z
      .int()
      .min(0)
      .max(2 ** 32 - 1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits'),
  }),
});
export type Assignment = z.output<typeof AssignmentSchema>;

/** Reply to a valid hello. `assignment` is absent while no run is open. */
export const WelcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  protocolVersion: z.int(),
  workerId: id(),
  /** Present it in `hello.resume` on reconnect. */
  secret: shortText(128),
  /** The coordinator's restart epoch (see the weights message): every weights reply carries it. */
  epoch: epoch(),
  assignment: AssignmentSchema.optional(),
});
export type Welcome = z.output<typeof WelcomeSchema>;

/** Error codes of replies that are not about one update. */
export const ERROR_CODES = [
  'protocol-version',
  'invalid-message',
  'unauthorized',
  'forbidden',
  'not-found',
  'rate-limited',
  'no-active-run',
  'internal',
] as const;
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.output<typeof ErrorCodeSchema>;

/** A typed error reply; `issues` lists offending fields of an invalid message. */
export const ErrorReplySchema = z.strictObject({
  type: z.literal('error'),
  code: ErrorCodeSchema,
  message: shortText(2000),
  issues: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorReply = z.output<typeof ErrorReplySchema>;

/** A worker asks for the model, saying which version it already has (to get a sparse delta). */
export const PullRequestSchema = z.strictObject({
  type: z.literal('pull'),
  runId: id(),
  haveVersion: version().optional(),
  /**
   * The epoch of the weights the worker holds (the `epoch` of the weights
   * message it got them from); absent for version 0 built from the seed, which
   * is the same in every epoch. A `haveVersion` of another epoch is answered
   * with the dense weights.
   */
  haveEpoch: epoch().optional(),
});
export type PullRequest = z.output<typeof PullRequestSchema>;

/**
 * The model at `version`: either the full weights (dense-weights codec) or a
 * patch for a worker holding `fromVersion` (sparse-update codec) holding NEW
 * values of some coordinates. A patch sets values instead of adding
 * differences, so each coordinate it carries ends bit-identical to the
 * coordinator's (w + (w' - w) is not always w' in float32).
 *
 * Bounded downstream: a patch carries at most the run's budget B of
 * coordinates (`compression.downstreamDensity`), the largest differences
 * between the global model and the coordinator's record of this worker's
 * copy; the rest follows in later patches (error feedback on the server's
 * side). A worker's copy labelled `version` is therefore close to, not always
 * equal to, the global model at `version`; dense weights (a `pull` without
 * `haveVersion`) make it equal.
 *
 * A step (`sparse-step`, protocol 4) carries DIFFERENCES instead, usually in
 * f16: the worker sets w <- fround(w + d) at each coordinate. The coordinator
 * sends one only when its own record of the model moved from `fromVersion` to
 * `version` by exactly that float32 sum on the copy the worker holds, so the
 * copy still ends bit-identical, at half the bytes of f32 new values.
 *
 * `epoch`: the coordinator's restart epoch. A worker applies a patch only on
 * weights of the same epoch (or on version 0 built from the seed); a patch of
 * another epoch was computed against another history, even at the same version
 * numbers, and the worker pulls the dense weights instead.
 */
export const WeightsSchema = z.discriminatedUnion('encoding', [
  z.strictObject({
    type: z.literal('weights'),
    runId: id(),
    version: version(),
    epoch: epoch(),
    encoding: z.literal('dense'),
    payload: BytesSchema,
  }),
  z.strictObject({
    type: z.literal('weights'),
    runId: id(),
    version: version(),
    epoch: epoch(),
    encoding: z.literal('sparse-patch'),
    fromVersion: version(),
    payload: BytesSchema,
  }),
  z.strictObject({
    type: z.literal('weights'),
    runId: id(),
    version: version(),
    epoch: epoch(),
    encoding: z.literal('sparse-step'),
    fromVersion: version(),
    payload: BytesSchema,
  }),
]);
export type Weights = z.output<typeof WeightsSchema>;

/** A worker's sparse update (sparse-update codec in `payload`). */
export const UpdatePushSchema = z.strictObject({
  type: z.literal('update'),
  runId: id(),
  /** Per-worker, strictly increasing: the idempotency key, so a retried push is applied once. */
  seq: z.int().min(0),
  /** Model version the update was computed from; staleness = current version - baseVersion. */
  baseVersion: version(),
  /** Local steps and samples behind this update. */
  steps: z.int().min(1).max(1_000_000),
  samples: z.int().min(1).max(1e9),
  trainLoss: z.number().min(0),
  /** Wall time the worker spent computing this update (sizes round deadlines). */
  computeMs: z.number().min(0).max(86_400_000),
  payload: BytesSchema,
});
export type UpdatePush = z.output<typeof UpdatePushSchema>;

/** Why an update was not taken. */
export const REJECT_REASONS = [
  'invalid-message',
  'invalid-payload',
  'non-finite',
  'payload-too-large',
  'rate-limited',
  'run-not-active',
  'unknown-worker',
  'duplicate',
  'stale',
  'late',
  'future-version',
  /**
   * The coordinator cannot make anything durable (disk full, I/O errors): it takes no
   * update until its checkpoint and database writes succeed again. Back off and retry.
   */
  'storage-unavailable',
  /**
   * Over the run's bounds (the guarded mean: longer, or with a larger entry, than the recent
   * accepted updates allow), or applying it would leave a weight non-finite or beyond the
   * coordinator's weight limit; the model is unchanged (since protocol 3).
   */
  'unsafe-update',
  /** No entry, or only zeros: it would move nothing, so it makes no new version (since protocol 3). */
  'empty-update',
] as const;
export const RejectReasonSchema = z.enum(REJECT_REASONS);
export type RejectReason = z.output<typeof RejectReasonSchema>;

/**
 * Answer to an update. `applied`: in the model at `version`, and `weights`
 * brings the worker from its base version to `version` (a patch of at most the
 * run's downstream budget, see {@link WeightsSchema}). `buffered`: accepted into an open
 * batch; wait for a {@link VersionNotice}, then pull, before computing the
 * next update (the synchronous barrier).
 */
export const UpdateAckSchema = z.strictObject({
  type: z.literal('ack'),
  seq: z.int().min(0),
  status: z.enum(['applied', 'buffered']),
  version: version(),
  staleness: z.int().min(0),
  weights: WeightsSchema.optional(),
});
export type UpdateAck = z.output<typeof UpdateAckSchema>;

export const UpdateRejectSchema = z.strictObject({
  type: z.literal('reject'),
  seq: z.int().min(0).optional(),
  reason: RejectReasonSchema,
  message: shortText(2000),
});
export type UpdateReject = z.output<typeof UpdateRejectSchema>;

export const PHASES = ['async', 'sync', 'hybrid'] as const;
export const PhaseSchema = z.enum(PHASES);
export type Phase = z.output<typeof PhaseSchema>;

/** The schedule changed phase, K (updates per batch), N or the local step count. */
export const PhaseNoticeSchema = z.strictObject({
  type: z.literal('phase'),
  runId: id(),
  phase: PhaseSchema,
  k: z.int().min(1),
  n: z.int().min(0),
  localSteps: z.int().min(1),
});
export type PhaseNotice = z.output<typeof PhaseNoticeSchema>;

/**
 * The global model moved to `version`: buffered workers may pull and continue.
 * Sent once to each worker waiting on a `buffered` ack, not to the whole run
 * (asynchronous workers learn the version from their own acks).
 */
export const VersionNoticeSchema = z.strictObject({
  type: z.literal('version'),
  runId: id(),
  version: version(),
});
export type VersionNotice = z.output<typeof VersionNoticeSchema>;

/** The run stopped; the worker should say hello again to get a new assignment. */
export const RunEndedSchema = z.strictObject({
  type: z.literal('run-ended'),
  runId: id(),
  reason: z.enum(['target-reached', 'max-versions', 'max-time', 'stopped']),
});
export type RunEnded = z.output<typeof RunEndedSchema>;
