<?php
// phpredis 5.3 RedisCluster (Debian: php-redis) against a Redis Cluster: see
// test_debian_clients.py. Usage: php phpredis_cluster.php HOST:PORT   (or SEED=HOST:PORT)
//
// Pipelining: RedisCluster has no pipeline mode. In phpredis 5.3 RedisCluster::multi() takes
// no mode argument and ignores one, so multi(Redis::PIPELINE) silently becomes MULTI/EXEC
// (phpredis 6 warns "RedisCluster does not support PIPELINING"). Step 4 therefore runs the
// same commands as a MULTI/EXEC transaction on one slot, the batching RedisCluster supports.
const NAME = 'phpredis';
const KEYS = 200;

function check($what, $expected, $actual) {
    if ($expected !== $actual) {
        throw new Exception("$what: expected " . var_export($expected, true) . ', got ' . var_export($actual, true));
    }
}

$seed = $argv[1] ?? getenv('SEED');
if (!$seed || !preg_match('/^[^:]+:\d+$/', $seed)) {
    fwrite(STDERR, "usage: phpredis_cluster.php HOST:PORT (or SEED=HOST:PORT)\n");
    exit(2);
}
// Warnings and notices are failures too.
set_error_handler(function ($no, $msg, $file, $line) {
    throw new ErrorException($msg, 0, $no, $file, $line);
});

try {
    check('phpredis version', '5.3.7', phpversion('redis'));
    $c = new RedisCluster(null, [$seed], 5.0, 5.0);
    $masters = $c->_masters();   // built from CLUSTER SLOTS
    if (count($masters) === 0) {
        throw new Exception('the client discovered no master');
    }
    echo 'masters discovered (CLUSTER SLOTS): ', implode(' ', array_map(function ($m) { return "$m[0]:$m[1]"; }, $masters)), "\n";
    $dbsize_sum = function () use ($c, $masters) {
        $total = 0;
        foreach ($masters as $m) {
            $n = $c->dbsize($m);
            if (!is_int($n)) {
                throw new Exception("DBSIZE on $m[0]:$m[1] returned " . var_export($n, true) . ': ' . $c->getLastError());
            }
            $total += $n;
        }
        return $total;
    };

    // 0. FLUSHALL on every master, then the cluster is empty.
    foreach ($masters as $m) {
        check("FLUSHALL on $m[0]:$m[1]", true, $c->flushall($m));
    }
    check('DBSIZE sum after FLUSHALL', 0, $dbsize_sum());

    // 1. 200 keys over many slots.
    $written = 0;
    for ($i = 0; $i < KEYS; $i++) {
        check("SET lang:{{$i}}", true, $c->set("lang:{{$i}}", NAME . "-value-$i"));
        $written++;
    }
    for ($i = 0; $i < KEYS; $i++) {
        check("GET lang:{{$i}}", NAME . "-value-$i", $c->get("lang:{{$i}}"));
    }

    // 2. A hash.
    $profile = ['name' => 'Ada', 'lang' => 'php', 'year' => '1995'];
    check('HMSET', true, $c->hMSet('profile:{42}', $profile));
    check('HSET of a new field', 1, $c->hSet('profile:{42}', 'os', 'linux'));
    $written++;
    $profile['os'] = 'linux';
    $all = $c->hGetAll('profile:{42}');
    ksort($all);
    ksort($profile);
    check('HGETALL', $profile, $all);

    // 3. MGET of three keys sharing a hash tag.
    foreach (['a', 'b', 'c'] as $f) {
        check("SET {user1}:$f", true, $c->set("{user1}:$f", NAME . "-$f"));
        $written++;
    }
    check('MGET', [NAME . '-a', NAME . '-b', NAME . '-c'], $c->mget(['{user1}:a', '{user1}:b', '{user1}:c']));

    // 4. The same 11 commands on one slot, as MULTI/EXEC (see the note at the top).
    $replies = $c->multi()
        ->set('{pipe}:a', '1')
        ->set('{pipe}:b', 'two')
        ->incr('{pipe}:a')
        ->incrBy('{pipe}:a', 40)
        ->get('{pipe}:a')
        ->append('{pipe}:b', '-x')
        ->rPush('{pipe}:list', 'x', 'y', 'z')
        ->lRange('{pipe}:list', 0, -1)
        ->hMSet('{pipe}:h', ['f1' => 'v1', 'f2' => 'v2'])
        ->exists('{pipe}:a', '{pipe}:b', '{pipe}:nope')
        ->get('{pipe}:b')
        ->exec();
    check('MULTI/EXEC replies', [true, true, 2, 42, '42', 5, 3, ['x', 'y', 'z'], true, 2, 'two-x'], $replies);
    $written += 4;

    // 5. DBSIZE summed over every master equals what this script wrote.
    check('DBSIZE sum over ' . count($masters) . ' masters', $written, $dbsize_sum());
    $c->close();
} catch (Throwable $e) {
    fwrite(STDERR, 'FAIL ' . NAME . ': ' . get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
echo 'OK ', NAME, "\n";
