// @ts-check
// Preloaded into a Lockstep process by `npm run bench -- --profile` (NODE_OPTIONS=--import ...),
// because Node 20 refuses --cpu-prof in NODE_OPTIONS: the same V8 sampling profiler, started
// through node:inspector, 1 ms interval as --cpu-prof uses, written to
// $LOCKSTEP_BENCH_PROFILE_DIR/$LOCKSTEP_BENCH_PROFILE_PREFIX-<emitter id or pid>.cpuprofile when the
// process exits. Plain JavaScript because the profiled process runs dist/ without tsx.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.LOCKSTEP_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // An in-thread inspector session answers synchronously, so this works inside 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      const name = `${process.env.LOCKSTEP_BENCH_PROFILE_PREFIX ?? 'lockstep'}-${process.env.LOCKSTEP_EMITTER_ID ?? process.pid}.cpuprofile`;
      if (!error) writeFileSync(join(dir, name), JSON.stringify(result.profile));
    });
  });
}
