import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { redisTestUrl, requireRedis, testRedisClient, uniqueRedisPrefix } from '../../../test/helpers/redis.js';
import type { BusLogger, EventBus } from './event-bus.js';
import { createMemoryBus } from './memory-bus.js';
import { createRedisBus } from './redis-bus.js';

const prefix = uniqueRedisPrefix('bus');

function spyLogger(): BusLogger & { errors: unknown[] } {
  const errors: unknown[] = [];
  return { errors, warn: vi.fn(), error: (obj) => errors.push(obj) };
}

interface Implementation {
  name: string;
  needsRedis: boolean;
  /** Each call is one node; for Redis, nodes created by one test share the prefix. */
  create(logger?: BusLogger): EventBus;
}

const implementations: Implementation[] = [
  { name: 'memory', needsRedis: false, create: (logger) => createMemoryBus({ logger }) },
  {
    name: 'redis',
    needsRedis: true,
    create: (logger) => createRedisBus({ url: redisTestUrl(), prefix, logger }),
  },
];

/** Collects messages; `waitFor` polls instead of sleeping a fixed time. */
function collector() {
  const received: { message: unknown; channel: string }[] = [];
  const handler = (message: unknown, channel: string): void => {
    received.push({ message, channel });
  };
  return { received, handler, messages: () => received.map((r) => r.message) };
}

const open: EventBus[] = [];
function track(bus: EventBus): EventBus {
  open.push(bus);
  return bus;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

describe.each(implementations)('EventBus contract: $name', (impl) => {
  beforeEach(async () => {
    if (impl.needsRedis) {
      await requireRedis();
    }
  });
  const node = (logger?: BusLogger): EventBus => track(impl.create(logger));

  it('delivers a message to an exact-channel subscriber with the channel name', async () => {
    const bus = node();
    const c = collector();
    await bus.subscribe('device.created', c.handler);
    await bus.publish('device.created', { id: 'd1' });
    await vi.waitFor(() => expect(c.received).toEqual([{ message: { id: 'd1' }, channel: 'device.created' }]));
  });

  it('delivers a JSON copy, not the published object', async () => {
    const bus = node();
    const c = collector();
    await bus.subscribe('copy', c.handler);
    const sent = { at: new Date('2024-01-02T03:04:05.000Z'), nested: { n: 1 } };
    await bus.publish('copy', sent);
    await vi.waitFor(() => expect(c.messages()).toEqual([{ at: '2024-01-02T03:04:05.000Z', nested: { n: 1 } }]));
    expect(c.received[0]?.message).not.toBe(sent);
  });

  it('rejects a message that is not JSON-serialisable', async () => {
    const bus = node();
    await expect(bus.publish('bad', undefined)).rejects.toThrow(TypeError);
    await expect(bus.publish('bad', { n: 1n })).rejects.toThrow(TypeError);
  });

  it('keeps publish order per channel', async () => {
    const bus = node();
    const c = collector();
    await bus.subscribe('ordered', c.handler);
    const sent = Array.from({ length: 200 }, (_, i) => i);
    await Promise.all(sent.map((i) => bus.publish('ordered', i)));
    await vi.waitFor(() => expect(c.messages()).toHaveLength(sent.length));
    expect(c.messages()).toEqual(sent);
  });

  it('delivers asynchronously, never inside publish', async () => {
    const bus = node();
    const c = collector();
    await bus.subscribe('async', c.handler);
    const publishing = bus.publish('async', 1);
    expect(c.received).toHaveLength(0);
    await publishing;
    await vi.waitFor(() => expect(c.messages()).toEqual([1]));
  });

  it('matches patterns ending in * by prefix and reports the concrete channel', async () => {
    const bus = node();
    const c = collector();
    await bus.subscribe('job-run:*', c.handler);
    await bus.publish('job-run:42', 'a');
    await bus.publish('job-runs', 'not me');
    await bus.publish('other:42', 'not me');
    await bus.publish('job-run:43:log', 'b');
    await vi.waitFor(() => expect(c.received).toHaveLength(2));
    expect(c.received).toEqual([
      { message: 'a', channel: 'job-run:42' },
      { message: 'b', channel: 'job-run:43:log' },
    ]);
  });

  it('treats glob characters before the trailing * literally', async () => {
    const bus = node();
    const glob = collector();
    const probe = collector();
    await bus.subscribe('a?[b]:*', glob.handler);
    await bus.subscribe('probe', probe.handler);
    await bus.publish('ax[b]:1', 'wildcard would match');
    await bus.publish('a?[b]:1', 'literal');
    await bus.publish('probe', 'done');
    await vi.waitFor(() => expect(probe.received).toHaveLength(1));
    expect(glob.messages()).toEqual(['literal']);
  });

  it('delivers to every subscriber of a channel, exact and pattern alike', async () => {
    const bus = node();
    const [a, b, p] = [collector(), collector(), collector()];
    await Promise.all([bus.subscribe('fan', a.handler), bus.subscribe('fan', b.handler), bus.subscribe('fa*', p.handler)]);
    await bus.publish('fan', 'x');
    await vi.waitFor(() => {
      expect(a.messages()).toEqual(['x']);
      expect(b.messages()).toEqual(['x']);
      expect(p.messages()).toEqual(['x']);
    });
  });

  it('isolates a throwing or rejecting handler from the others and logs it', async () => {
    const logger = spyLogger();
    const bus = node(logger);
    const c = collector();
    await bus.subscribe('boom', () => {
      throw new Error('sync failure');
    });
    await bus.subscribe('boom', async () => {
      throw new Error('async failure');
    });
    await bus.subscribe('boom', c.handler);
    await bus.publish('boom', 1);
    await bus.publish('boom', 2);
    await vi.waitFor(() => expect(c.messages()).toEqual([1, 2]));
    await vi.waitFor(() => expect(logger.errors).toHaveLength(4));
  });

  it('stops delivery to an unsubscribed handler but keeps the others', async () => {
    const bus = node();
    const [gone, kept] = [collector(), collector()];
    const unsubscribe = await bus.subscribe('unsub', gone.handler);
    await bus.subscribe('unsub', kept.handler);
    await unsubscribe();
    await unsubscribe(); // idempotent: must not drop the shared subscription
    await bus.publish('unsub', 1);
    await vi.waitFor(() => expect(kept.messages()).toEqual([1]));
    expect(gone.received).toHaveLength(0);
  });

  it('stops delivery when the last handler of a pattern unsubscribes, and can resubscribe', async () => {
    const bus = node();
    const [first, probe, second] = [collector(), collector(), collector()];
    const unsubscribe = await bus.subscribe('pat:*', first.handler);
    await bus.subscribe('probe', probe.handler);
    await unsubscribe();
    await bus.publish('pat:1', 'late');
    await bus.publish('probe', 'p1');
    await vi.waitFor(() => expect(probe.received).toHaveLength(1));
    expect(first.received).toHaveLength(0);

    await bus.subscribe('pat:*', second.handler);
    await bus.publish('pat:2', 'again');
    await vi.waitFor(() => expect(second.messages()).toEqual(['again']));
    expect(first.received).toHaveLength(0);
  });

  it('rejects publish and subscribe after close', async () => {
    const bus = impl.create();
    await bus.close();
    await expect(bus.publish('x', 1)).rejects.toThrow(/closed/);
    await expect(bus.subscribe('x', () => {})).rejects.toThrow(/closed/);
    await bus.close(); // idempotent
  });
});

describe('EventBus on Redis across nodes', () => {
  beforeEach(async () => {
    await requireRedis();
  });
  const node = (nodePrefix = prefix): EventBus => track(createRedisBus({ url: redisTestUrl(), prefix: nodePrefix }));

  it('delivers a message published on node A to subscribers on node B, exact and pattern', async () => {
    const [a, b] = [node(), node()];
    const [exact, pattern] = [collector(), collector()];
    await b.subscribe('run.failed', exact.handler);
    await b.subscribe('run.*', pattern.handler);
    await a.publish('run.failed', { runId: 'r1' });
    await vi.waitFor(() => {
      expect(exact.received).toEqual([{ message: { runId: 'r1' }, channel: 'run.failed' }]);
      expect(pattern.received).toEqual([{ message: { runId: 'r1' }, channel: 'run.failed' }]);
    });
  });

  it('keeps deployments with different prefixes apart', async () => {
    const [a, other] = [node(), node(uniqueRedisPrefix('bus-other'))];
    const [mine, theirs] = [collector(), collector()];
    await a.subscribe('shared', mine.handler);
    await other.subscribe('shared', theirs.handler);
    await other.subscribe('*', theirs.handler);
    await a.publish('shared', 1);
    await other.publish('probe', 'p');
    await vi.waitFor(() => expect(mine.messages()).toEqual([1]));
    // Redis delivers in publish order, so once 'p' is in, a leaked 'shared' would be too.
    await vi.waitFor(() => expect(theirs.messages()).toEqual(['p']));
  });

  it('issues one Redis SUBSCRIBE per channel however many local handlers, and UNSUBSCRIBEs after the last', async () => {
    const bus = node();
    const admin = testRedisClient();
    await admin.connect();
    try {
      const channel = `${prefix}refcount`;
      const subscribers = async (): Promise<unknown> => (await admin.pubsub('NUMSUB', channel))[1];
      const offs = await Promise.all([1, 2, 3].map(() => bus.subscribe('refcount', () => {})));
      expect(await subscribers()).toBe(1);
      await offs[0]?.();
      await offs[1]?.();
      expect(await subscribers()).toBe(1);
      await offs[2]?.();
      expect(await subscribers()).toBe(0);
    } finally {
      admin.disconnect();
    }
  });

  it('drops a message that is not JSON without breaking the subscription', async () => {
    const logger = spyLogger();
    const bus = track(createRedisBus({ url: redisTestUrl(), prefix, logger }));
    const c = collector();
    await bus.subscribe('foreign', c.handler);
    const admin = testRedisClient();
    await admin.connect();
    try {
      await admin.publish(`${prefix}foreign`, 'not json');
      await bus.publish('foreign', 'ok');
      await vi.waitFor(() => expect(c.messages()).toEqual(['ok']));
      expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ channel: 'foreign' }), expect.any(String));
    } finally {
      admin.disconnect();
    }
  });
});
