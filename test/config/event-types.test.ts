import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

/** Issue 17's setting: LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES. */
test('LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES: off by default, true/false taken, anything else a ConfigError naming it', () => {
  assert.equal(loadConfig({}).requireKnownEventTypes, false);
  assert.equal(loadConfig({ LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES: 'true' }).requireKnownEventTypes, true);
  assert.equal(loadConfig({ LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES: 'false' }).requireKnownEventTypes, false);
  assert.throws(
    () => loadConfig({ LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES: 'yes' }),
    (error: Error) => error instanceof ConfigError && error.message.includes('LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES'),
  );
});
