// node-redis 4.x (Debian: node-redis) against a Redis Cluster: see test_debian_clients.py.
// Usage: NODE_PATH=/usr/share/nodejs node node_redis_cluster.js HOST:PORT   (or SEED=HOST:PORT)
'use strict';
const assert = require('assert');
const { createCluster } = require('redis');

const NAME = 'node-redis';
const KEYS = 200;

function seed() {
  const s = process.argv[2] || process.env.SEED;
  if (!s || !/^[^:]+:\d+$/.test(s)) {
    console.error('usage: node_redis_cluster.js HOST:PORT (or SEED=HOST:PORT)');
    process.exit(2);
  }
  const [host, port] = s.split(':');
  return { host, port: Number(port) };
}

async function main() {
  const { host, port } = seed();
  // node-redis reconnects forever by default (an unreachable seed would hang the script):
  // give up after 20 attempts instead. Any reconnect during the run fails the script anyway.
  const reconnectStrategy = (retries) =>
    (retries >= 20 ? new Error(`gave up after ${retries} reconnects`) : Math.min(retries * 50, 500));
  const cluster = createCluster({
    rootNodes: [{ socket: { host, port } }],
    defaults: { socket: { connectTimeout: 5000, reconnectStrategy } },
  });
  const clientErrors = [];
  cluster.on('error', (err) => clientErrors.push(err));
  await cluster.connect();
  try {
    const masters = () => cluster.getMasters();
    const dbsizeSum = async () => {
      let total = 0;
      for (const m of masters()) total += await m.client.dbSize();
      return total;
    };
    assert.ok(masters().length > 0, 'the client discovered no master');
    const addrs = masters().map((m) => `${m.client.options.socket.host}:${m.client.options.socket.port}`);
    console.log(`masters discovered (CLUSTER NODES): ${addrs.join(' ')}`);

    // 0. FLUSHALL on every master, then the cluster is empty.
    for (const m of masters()) assert.strictEqual(await m.client.flushAll(), 'OK', `FLUSHALL on ${m.id}`);
    assert.strictEqual(await dbsizeSum(), 0, 'DBSIZE sum after FLUSHALL');

    // 1. 200 keys over many slots.
    let written = 0;
    for (let i = 0; i < KEYS; i++) {
      assert.strictEqual(await cluster.set(`lang:{${i}}`, `${NAME}-value-${i}`), 'OK', `SET lang:{${i}}`);
      written++;
    }
    for (let i = 0; i < KEYS; i++) {
      assert.strictEqual(await cluster.get(`lang:{${i}}`), `${NAME}-value-${i}`, `GET lang:{${i}}`);
    }

    // 2. A hash.
    const profile = { name: 'Ada', lang: 'javascript', year: '1995' };
    assert.strictEqual(await cluster.hSet('profile:{42}', profile), 3, 'HSET returns the number of new fields');
    written++;
    assert.deepStrictEqual({ ...(await cluster.hGetAll('profile:{42}')) }, profile, 'HGETALL');

    // 3. MGET of three keys sharing a hash tag.
    for (const f of ['a', 'b', 'c']) {
      assert.strictEqual(await cluster.set(`{user1}:${f}`, `${NAME}-${f}`), 'OK', `SET {user1}:${f}`);
      written++;
    }
    assert.deepStrictEqual(await cluster.mGet(['{user1}:a', '{user1}:b', '{user1}:c']),
      [`${NAME}-a`, `${NAME}-b`, `${NAME}-c`], 'MGET');

    // 4. A pipeline of 11 commands on one slot (no MULTI: execAsPipeline).
    const replies = await cluster.multi()
      .set('{pipe}:a', '1')
      .set('{pipe}:b', 'two')
      .incr('{pipe}:a')
      .incrBy('{pipe}:a', 40)
      .get('{pipe}:a')
      .append('{pipe}:b', '-x')
      .rPush('{pipe}:list', ['x', 'y', 'z'])
      .lRange('{pipe}:list', 0, -1)
      .hSet('{pipe}:h', { f1: 'v1', f2: 'v2' })
      .exists(['{pipe}:a', '{pipe}:b', '{pipe}:nope'])
      .get('{pipe}:b')
      .execAsPipeline();
    assert.deepStrictEqual(replies,
      ['OK', 'OK', 2, 42, '42', 5, 3, ['x', 'y', 'z'], 2, 2, 'two-x'], 'pipeline replies');
    written += 4;

    // 5. DBSIZE summed over every master equals what this script wrote.
    assert.strictEqual(await dbsizeSum(), written, `DBSIZE sum over ${masters().length} masters`);
    assert.deepStrictEqual(clientErrors, [], 'client error events');
  } finally {
    await cluster.quit();
  }
  console.log(`OK ${NAME}`);
}

main().catch((err) => {
  console.error(`FAIL node-redis: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
