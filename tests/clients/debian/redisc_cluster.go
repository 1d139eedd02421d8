// redisc 1.1 + redigo 1.8 (Debian: golang-github-mna-redisc-dev,
// golang-github-gomodule-redigo-dev) against a Redis Cluster: see test_debian_clients.py.
//
// Build: GOPATH=/usr/share/gocode GO111MODULE=off go build -o redisc_cluster redisc_cluster.go
// Usage: redisc_cluster HOST:PORT   (or SEED=HOST:PORT)
package main

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/mna/redisc"
)

const name = "redisc"
const nKeys = 200

type master struct {
	addr  string
	start int // first slot of one of its ranges
	end   int
}

func check(what string, expected, actual interface{}) {
	if !reflect.DeepEqual(expected, actual) {
		fail(fmt.Errorf("%s: expected %#v, got %#v", what, expected, actual))
	}
}

func must(what string, err error) {
	if err != nil {
		fail(fmt.Errorf("%s: %v", what, err))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", name, err)
	os.Exit(1)
}

// do runs one command on a connection of its own, bound to the command's first key and
// following MOVED/ASK (the redisc way: one short-lived connection per key).
func do(cluster *redisc.Cluster, cmd string, args ...interface{}) (interface{}, error) {
	conn := cluster.Get()
	defer conn.Close()
	rc, err := redisc.RetryConn(conn, 4, 100*time.Millisecond)
	if err != nil {
		return nil, err
	}
	return rc.Do(cmd, args...)
}

// masters parses CLUSTER SLOTS, sent through the client (redisc takes the first argument for
// a key, so this goes to the master of the slot of "SLOTS"): the first node of every range is
// its master.
func masters(cluster *redisc.Cluster) []master {
	reply, err := redis.Values(do(cluster, "CLUSTER", "SLOTS"))
	must("CLUSTER SLOTS", err)
	seen := map[string]bool{}
	var out []master
	for _, r := range reply {
		entry, err := redis.Values(r, nil)
		must("CLUSTER SLOTS entry", err)
		if len(entry) < 3 {
			fail(fmt.Errorf("CLUSTER SLOTS entry without a master: %#v", entry))
		}
		start, err := redis.Int(entry[0], nil)
		must("CLUSTER SLOTS start", err)
		end, err := redis.Int(entry[1], nil)
		must("CLUSTER SLOTS end", err)
		node, err := redis.Values(entry[2], nil)
		must("CLUSTER SLOTS node", err)
		host, err := redis.String(node[0], nil)
		must("CLUSTER SLOTS host", err)
		port, err := redis.Int(node[1], nil)
		must("CLUSTER SLOTS port", err)
		addr := fmt.Sprintf("%s:%d", host, port)
		if !seen[addr] {
			seen[addr] = true
			out = append(out, master{addr, start, end})
		}
	}
	if len(out) == 0 {
		fail(fmt.Errorf("the client discovered no master"))
	}
	return out
}

// onMaster runs cmd on the master m, through a redisc connection bound to a key of one of
// m's slots.
func onMaster(cluster *redisc.Cluster, m master, cmd string) (interface{}, error) {
	key := ""
	for i := 0; ; i++ {
		k := fmt.Sprintf("probe:%d", i)
		if s := redisc.Slot(k); s >= m.start && s <= m.end {
			key = k
			break
		}
	}
	conn := cluster.Get()
	defer conn.Close()
	if err := redisc.BindConn(conn, key); err != nil {
		return nil, err
	}
	return conn.Do(cmd)
}

func dbsizeSum(cluster *redisc.Cluster, ms []master) int {
	total := 0
	for _, m := range ms {
		n, err := redis.Int(onMaster(cluster, m, "DBSIZE"))
		must("DBSIZE on "+m.addr, err)
		total += n
	}
	return total
}

func main() {
	seed := os.Getenv("SEED")
	if len(os.Args) > 1 {
		seed = os.Args[1]
	}
	if !regexp.MustCompile(`^[^:]+:\d+$`).MatchString(seed) {
		fmt.Fprintln(os.Stderr, "usage: redisc_cluster HOST:PORT (or SEED=HOST:PORT)")
		os.Exit(2)
	}
	opts := []redis.DialOption{redis.DialConnectTimeout(5 * time.Second),
		redis.DialReadTimeout(5 * time.Second), redis.DialWriteTimeout(5 * time.Second)}
	cluster := &redisc.Cluster{
		StartupNodes: []string{seed},
		DialOptions:  opts,
		CreatePool: func(addr string, o ...redis.DialOption) (*redis.Pool, error) {
			return &redis.Pool{MaxIdle: 4, IdleTimeout: time.Minute,
				Dial: func() (redis.Conn, error) { return redis.Dial("tcp", addr, o...) }}, nil
		},
	}
	defer cluster.Close()
	must("Refresh (CLUSTER SLOTS)", cluster.Refresh())

	ms := masters(cluster)
	addrs := make([]string, len(ms))
	for i, m := range ms {
		addrs[i] = m.addr
	}
	fmt.Printf("masters discovered (CLUSTER SLOTS): %s\n", strings.Join(addrs, " "))

	// 0. FLUSHALL on every master, then the cluster is empty.
	for _, m := range ms {
		ok, err := redis.String(onMaster(cluster, m, "FLUSHALL"))
		must("FLUSHALL on "+m.addr, err)
		check("FLUSHALL on "+m.addr, "OK", ok)
	}
	check("DBSIZE sum after FLUSHALL", 0, dbsizeSum(cluster, ms))

	// 1. 200 keys over many slots.
	written := 0
	for i := 0; i < nKeys; i++ {
		key := fmt.Sprintf("lang:{%d}", i)
		ok, err := redis.String(do(cluster, "SET", key, fmt.Sprintf("%s-value-%d", name, i)))
		must("SET "+key, err)
		check("SET "+key, "OK", ok)
		written++
	}
	for i := 0; i < nKeys; i++ {
		key := fmt.Sprintf("lang:{%d}", i)
		v, err := redis.String(do(cluster, "GET", key))
		must("GET "+key, err)
		check("GET "+key, fmt.Sprintf("%s-value-%d", name, i), v)
	}

	// 2. A hash.
	n, err := redis.Int(do(cluster, "HSET", "profile:{42}", "name", "Ada", "lang", "go", "year", "1995"))
	must("HSET", err)
	check("HSET", 3, n)
	written++
	h, err := redis.StringMap(do(cluster, "HGETALL", "profile:{42}"))
	must("HGETALL", err)
	check("HGETALL", map[string]string{"name": "Ada", "lang": "go", "year": "1995"}, h)

	// 3. MGET of three keys sharing a hash tag.
	for _, f := range []string{"a", "b", "c"} {
		ok, err := redis.String(do(cluster, "SET", "{user1}:"+f, name+"-"+f))
		must("SET {user1}:"+f, err)
		check("SET {user1}:"+f, "OK", ok)
		written++
	}
	vals, err := redis.Strings(do(cluster, "MGET", "{user1}:a", "{user1}:b", "{user1}:c"))
	must("MGET", err)
	check("MGET", []string{name + "-a", name + "-b", name + "-c"}, vals)

	// 4. A pipeline of 11 commands (Send/Flush/Receive) on a connection bound to one slot.
	conn := cluster.Get()
	must("Bind {pipe}", redisc.BindConn(conn, "{pipe}:a"))
	cmds := [][]interface{}{
		{"SET", "{pipe}:a", "1"},
		{"SET", "{pipe}:b", "two"},
		{"INCR", "{pipe}:a"},
		{"INCRBY", "{pipe}:a", 40},
		{"GET", "{pipe}:a"},
		{"APPEND", "{pipe}:b", "-x"},
		{"RPUSH", "{pipe}:list", "x", "y", "z"},
		{"LRANGE", "{pipe}:list", 0, -1},
		{"HSET", "{pipe}:h", "f1", "v1", "f2", "v2"},
		{"EXISTS", "{pipe}:a", "{pipe}:b", "{pipe}:nope"},
		{"GET", "{pipe}:b"},
	}
	for _, c := range cmds {
		must(fmt.Sprintf("Send %v", c), conn.Send(c[0].(string), c[1:]...))
	}
	must("Flush", conn.Flush())
	var replies []interface{}
	for _, c := range cmds {
		r, err := conn.Receive()
		must(fmt.Sprintf("Receive %v", c), err)
		switch v := r.(type) {
		case []byte:
			r = string(v)
		case []interface{}:
			s, err := redis.Strings(v, nil)
			must("pipeline array reply", err)
			r = s
		}
		replies = append(replies, r)
	}
	must("close pipeline connection", conn.Close())
	check("pipeline replies", []interface{}{"OK", "OK", int64(2), int64(42), "42", int64(5), int64(3),
		[]string{"x", "y", "z"}, int64(2), int64(2), "two-x"}, replies)
	written += 4

	// 5. DBSIZE summed over every master equals what this script wrote.
	check(fmt.Sprintf("DBSIZE sum over %d masters", len(ms)), written, dbsizeSum(cluster, ms))
	fmt.Printf("OK %s\n", name)
}
