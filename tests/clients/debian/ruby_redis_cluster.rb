# redis-rb 4.8 (Debian: ruby-redis) against a Redis Cluster: see test_debian_clients.py.
# Usage: ruby ruby_redis_cluster.rb HOST:PORT   (or SEED=HOST:PORT)
require 'redis'

NAME = 'ruby-redis'.freeze
KEYS = 200

class CheckFailed < StandardError; end

def check(what, expected, actual)
  return if expected == actual

  raise CheckFailed, "#{what}: expected #{expected.inspect}, got #{actual.inspect}"
end

seed = ARGV[0] || ENV['SEED']
unless seed&.match?(/\A[^:]+:\d+\z/)
  warn 'usage: ruby_redis_cluster.rb HOST:PORT (or SEED=HOST:PORT)'
  exit 2
end

begin
  r = Redis.new(cluster: ["redis://#{seed}"])
  check('client version', '4.8.0', Redis::VERSION)
  # redis-rb 4.8 has no public list of masters: Redis::Cluster sends DBSIZE and FLUSHALL to
  # every node it keeps a client for (replicas are dropped when replicas are not in use), and
  # sums DBSIZE itself. connection_info lists those nodes.
  nodes = r._client.connection_info.map { |c| "#{c[:host]}:#{c[:port]}" }
  raise CheckFailed, 'the client discovered no node' if nodes.empty?

  puts "masters discovered (CLUSTER SLOTS + CLUSTER NODES flags): #{nodes.join(' ')}"

  # 0. FLUSHALL on every master, then the cluster is empty.
  check('FLUSHALL', 'OK', r.flushall)
  check('DBSIZE sum after FLUSHALL', 0, r.dbsize)

  # 1. 200 keys over many slots.
  written = 0
  KEYS.times do |i|
    check("SET lang:{#{i}}", 'OK', r.set("lang:{#{i}}", "#{NAME}-value-#{i}"))
    written += 1
  end
  KEYS.times { |i| check("GET lang:{#{i}}", "#{NAME}-value-#{i}", r.get("lang:{#{i}}")) }

  # 2. A hash.
  profile = { 'name' => 'Ada', 'lang' => 'ruby', 'year' => '1995' }
  check('HSET', 3, r.hset('profile:{42}', profile))
  written += 1
  check('HGETALL', profile, r.hgetall('profile:{42}'))

  # 3. MGET of three keys sharing a hash tag.
  %w[a b c].each do |f|
    check("SET {user1}:#{f}", 'OK', r.set("{user1}:#{f}", "#{NAME}-#{f}"))
    written += 1
  end
  check('MGET', %W[#{NAME}-a #{NAME}-b #{NAME}-c], r.mget('{user1}:a', '{user1}:b', '{user1}:c'))

  # 4. A pipeline of 11 commands on one slot.
  replies = r.pipelined do |p|
    p.set('{pipe}:a', '1')
    p.set('{pipe}:b', 'two')
    p.incr('{pipe}:a')
    p.incrby('{pipe}:a', 40)
    p.get('{pipe}:a')
    p.append('{pipe}:b', '-x')
    p.rpush('{pipe}:list', %w[x y z])
    p.lrange('{pipe}:list', 0, -1)
    p.hset('{pipe}:h', 'f1', 'v1', 'f2', 'v2')
    p.exists('{pipe}:a', '{pipe}:b', '{pipe}:nope')
    p.get('{pipe}:b')
  end
  check('pipeline replies', ['OK', 'OK', 2, 42, '42', 5, 3, %w[x y z], 2, 2, 'two-x'], replies)
  written += 4

  # 5. DBSIZE summed over every master equals what this script wrote.
  check("DBSIZE sum over #{nodes.size} masters", written, r.dbsize)
  r.close
rescue StandardError => e
  warn "FAIL #{NAME}: #{e.class}: #{e.message}"
  warn e.backtrace.first(5).join("\n")
  exit 1
end

puts "OK #{NAME}"
