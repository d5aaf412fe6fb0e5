import { Type, type Static } from '@sinclair/typebox';
import type { AttemptOutcome } from '../metrics/types.js';
import { NumberMap, Response, StringEnum } from './common.js';

/** GET /v1/locks: who holds which receiver right now. */
export const LockHolderSchema = Type.Object({
  receiverId: Type.String(),
  slot: Type.Integer({
    description: "which of the receiver's maxInFlight lock slots: 0 is its own lock (the one emitter dispatching to it), 1… the other lanes",
  }),
  emitterId: Type.String(),
  fence: Type.Integer({ description: "the slot's own fence" }),
  since: Type.String(),
});
export type LockHolder = Static<typeof LockHolderSchema>;
export const LocksSchema = Type.Object({ backend: Type.String(), data: Type.Array(LockHolderSchema) });
export type Locks = Static<typeof LocksSchema>;
export const LocksResponse = Response(LocksSchema);

/** One running process's report, as GET /v1/stats lists it. */
export const ProcessReportSchema = Type.Object({
  id: Type.String(),
  role: StringEnum(['all', 'api', 'emitter']),
  host: Type.String(),
  pid: Type.Integer(),
  version: Type.String(),
  startedAt: Type.String(),
  reportedAt: Type.String(),
  accepted: Type.Number({ description: 'messages this process accepted since it started' }),
  attempts: NumberMap<AttemptOutcome>({ description: 'delivery attempts this process made since it started, by outcome' }),
  receiversHeld: Type.Integer(),
  lagBucketsMs: Type.Unsafe<[number, number][]>({
    type: 'array',
    items: { type: 'array', items: { type: 'number' } },
    description: 'cumulative histogram of acceptance → 2xx: [upper bound ms, deliveries]',
  }),
});
export type ProcessReport = Static<typeof ProcessReportSchema>;

/** GET /v1/stats: the whole fleet at a glance. */
export const StatsSchema = Type.Object({
  at: Type.String(),
  lockBackend: Type.String(),
  queue: Type.Object({ depth: NumberMap<'pending' | 'retrying' | 'dead'>(), oldestAgeS: NumberMap<'pending' | 'retrying'>() }),
  processes: Type.Array(ProcessReportSchema),
});
export type Stats = Static<typeof StatsSchema>;
export const StatsResponse = Response(StatsSchema);

const readinessFields = {
  status: StringEnum(['ready', 'unavailable']),
  redis: Type.Boolean(),
  lockBackend: Type.Object({ name: Type.String(), ok: Type.Boolean() }),
};
export const ReadinessResponse = Response(Type.Object(readinessFields));
export type Readiness = Static<typeof ReadinessResponse>;
export const HealthResponse = Response(Type.Object({ status: Type.String() }));
