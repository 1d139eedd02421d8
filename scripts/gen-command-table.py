#!/usr/bin/env python3
"""Generate slotraft's command metadata from a real redis-server 7.0.15.

Reads the command names in src/command/table/commands.txt (one a line, lower case,
`container|sub` for a subcommand, `#` comments), asks a temporary redis-server (no persistence,
a free loopback port, stopped at the end) for their `COMMAND INFO` and `COMMAND DOCS`, and writes:

- src/command/table/generated.rs: the `CommandSpec` values, built with the builders of
  src/command/spec.rs, each pointing at its hand-written parser `parser_index::<ident>` (ident = the
  name with `|` and `-` replaced by `_`); formatted with rustfmt.
- src/command/testdata/redis-7.0.15-command-info-docs.resp: the raw replies, for the
  byte-for-byte test (per name: the name as a bulk string, then `COMMAND INFO name` and
  `COMMAND DOCS name` over RESP3, then the same two over RESP2).
- src/command/testdata/redis-7.0.15-command-getkeys.resp: for each command line of
  src/command/table/getkeys-cases.txt (shell-style words), the line as a RESP array, Redis'
  `COMMAND GETKEYS` reply and the `COMMAND INFO` reply of its first word (all RESP2).

A container (`cluster`) must be listed itself when any of its subcommands is; its spec lists
only the listed subcommands, in file order. Anything in Redis' metadata that spec.rs cannot
represent stops the script with an error naming the command and the field.

Usage: python3 scripts/gen-command-table.py [--commands FILE] [--out FILE] [--capture FILE]
       [--getkeys-cases FILE] [--getkeys-capture FILE] [--no-getkeys]
Needs redis-py (`pip install redis`) and redis-server 7.0.15 (installed with
`apt-get install -y redis-server` when missing: Debian 12 ships 7.0.15).
"""

import argparse
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REDIS_VERSION = "7.0.15"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COMMAND_FLAGS = {
    "write": "Write",
    "readonly": "Readonly",
    "denyoom": "Denyoom",
    "admin": "Admin",
    "pubsub": "Pubsub",
    "noscript": "Noscript",
    "blocking": "Blocking",
    "loading": "Loading",
    "stale": "Stale",
    "skip_monitor": "SkipMonitor",
    "skip_slowlog": "SkipSlowlog",
    "asking": "Asking",
    "fast": "Fast",
    "no_auth": "NoAuth",
    "no_mandatory_keys": "NoMandatoryKeys",
    "no_async_loading": "NoAsyncLoading",
    "no_multi": "NoMulti",
    "movablekeys": "MovableKeys",
    "allow_busy": "AllowBusy",
}
ACL_CATEGORIES = {
    "@keyspace": "Keyspace",
    "@read": "Read",
    "@write": "Write",
    "@set": "Set",
    "@sortedset": "SortedSet",
    "@list": "List",
    "@hash": "Hash",
    "@string": "String",
    "@bitmap": "Bitmap",
    "@hyperloglog": "HyperLogLog",
    "@geo": "Geo",
    "@stream": "Stream",
    "@pubsub": "PubSub",
    "@admin": "Admin",
    "@fast": "Fast",
    "@slow": "Slow",
    "@blocking": "Blocking",
    "@dangerous": "Dangerous",
    "@connection": "Connection",
    "@transaction": "Transaction",
    "@scripting": "Scripting",
}
KEY_SPEC_FLAGS = {
    "RO": "Ro",
    "RW": "Rw",
    "OW": "Ow",
    "RM": "Rm",
    "access": "Access",
    "update": "Update",
    "insert": "Insert",
    "delete": "Delete",
    "not_key": "NotKey",
    "incomplete": "Incomplete",
    "variable_flags": "VariableFlags",
}
GROUPS = {
    "generic": "Generic",
    "string": "String",
    "list": "List",
    "set": "Set",
    "sorted-set": "SortedSet",
    "hash": "Hash",
    "pubsub": "PubSub",
    "transactions": "Transactions",
    "connection": "Connection",
    "server": "Server",
    "scripting": "Scripting",
    "hyperloglog": "HyperLogLog",
    "cluster": "Cluster",
    "sentinel": "Sentinel",
    "geo": "Geo",
    "stream": "Stream",
    "bitmap": "Bitmap",
}
DOC_FLAGS = {"deprecated": "Deprecated", "syscmd": "Syscmd"}
ARG_KINDS = {
    "string": "String",
    "integer": "Integer",
    "double": "Double",
    "key": "Key",
    "pattern": "Pattern",
    "unix-time": "UnixTime",
    "pure-token": "PureToken",
    "oneof": "OneOf",
    "block": "Block",
}
ARG_FLAGS = {"optional": "optional", "multiple": "multiple", "multiple_token": "multiple_token"}


class Unrepresentable(Exception):
    """Redis metadata that spec.rs has no shape for."""


# ---------------------------------------------------------------------------------------------
# redis-server


def ensure_redis_server():
    path = shutil.which("redis-server")
    if path is None:
        print("redis-server missing: apt-get install -y redis-server", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], check=True, env=env)
        path = shutil.which("redis-server")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    if f"v={REDIS_VERSION} " not in out:
        sys.exit(f"need redis-server {REDIS_VERSION}, found: {out.strip()}")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server: loopback only, no RDB, no AOF, its own directory."""

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="gen-command-table-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no", "--logfile", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    sys.exit("redis-server did not start")
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Raw replies (for the captures): a RESP2/RESP3 reader that returns the exact bytes of a reply.


class RawConnection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        self.sock.sendall(encode_command(args))
        return self.read_reply()

    def read_reply(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise IOError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind in b"+-:,#_(":
            return line
        if kind in b"$=!":
            n = int(rest)
            return line if n < 0 else line + self.file.read(n + 2)
        if kind in b"*~>%|":
            n = int(rest)
            if kind in b"%|":
                n *= 2
            return line + b"".join(self.read_reply() for _ in range(max(n, 0)))
        raise IOError(f"unexpected reply type {line!r}")

    def close(self):
        self.file.close()
        self.sock.close()


def encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def bulk(s):
    s = s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


# ---------------------------------------------------------------------------------------------
# Metadata through redis-py (RESP2, so maps arrive as flat lists in Redis' order).


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def flat_map(items):
    if len(items) % 2:
        raise ValueError("odd map")
    return {text(items[i]): items[i + 1] for i in range(0, len(items), 2)}


class Metadata:
    def __init__(self, port):
        try:
            import redis  # redis-py
        except ImportError:
            sys.exit("gen-command-table.py needs redis-py: pip install redis")

        self.conn = redis.Connection(host="127.0.0.1", port=port, protocol=2)
        self.conn.connect()

    def call(self, *args):
        self.conn.send_command(*args)
        return self.conn.read_response()

    def info(self, name):
        reply = self.call("COMMAND", "INFO", name)
        if len(reply) != 1 or reply[0] is None:
            sys.exit(f"redis-server {REDIS_VERSION} has no command {name!r}")
        return reply[0]

    def docs(self, name):
        reply = flat_map(self.call("COMMAND", "DOCS", name))
        return reply[name]

    def close(self):
        self.conn.disconnect()


# ---------------------------------------------------------------------------------------------
# Rust emission


# Longer literals are cut, at spaces, into `\`-continued lines of about this many characters, so
# that rustfmt can lay out the expressions around them (it leaves alone any item with a line it
# cannot fit in 100 columns).
STRING_PIECE = 48


def rs_str(s):
    s = text(s)
    pieces, start = [], 0
    while len(s) - start > STRING_PIECE:
        # Cut after a single space followed by a non-space: the continuation drops the newline
        # and the next line's indentation, and the space before the `\` stays in the string.
        cut = -1
        for i in range(start + STRING_PIECE, start + 8, -1):
            if s[i - 1] == " " and s[i] != " " and s[i - 2] != " ":
                cut = i
                break
        if cut < 0:
            break
        pieces.append(s[start:cut])
        start = cut
    pieces.append(s[start:])
    return '"' + "\\\n".join(escape(p) for p in pieces) + '"'


def escape(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


RUST_KEYWORDS = set("""as async await break const continue crate dyn else enum extern false fn for
gen if impl in let loop match mod move mut pub ref return static struct super trait true try type
unsafe use where while abstract become box do final macro override priv typeof unsized virtual
yield""".split())


def ident(name):
    """The parser's name in `parser_index`: `|` and `-` become `_`; a Rust keyword (`move`, `type`)
    is written as a raw identifier (`r#move`)."""
    ident = name.replace("|", "_").replace("-", "_")
    return "r#" + ident if ident in RUST_KEYWORDS else ident


def mapped(table, value, what, cmd):
    value = text(value)
    if value not in table:
        raise Unrepresentable(f"{cmd}: {what} {value!r} has no spec.rs counterpart")
    return table[value]


def expect_keys(m, allowed, what, cmd):
    extra = [k for k in m if k not in allowed]
    if extra:
        raise Unrepresentable(f"{cmd}: {what} has fields spec.rs does not model: {extra}")


def slice_of(items):
    return "&[" + ", ".join(items) + "]"


def emit_key_spec(raw, cmd):
    m = flat_map(raw)
    expect_keys(m, ["notes", "flags", "begin_search", "find_keys"], "key spec", cmd)
    flags = slice_of("Key::" + mapped(KEY_SPEC_FLAGS, f, "key spec flag", cmd) for f in m["flags"])
    bs = flat_map(m["begin_search"])
    bs_type, bs_spec = text(bs["type"]), flat_map(bs["spec"])
    fk = flat_map(m["find_keys"])
    fk_type, fk_spec = text(fk["type"]), flat_map(fk["spec"])
    if bs_type == "index":
        expect_keys(bs_spec, ["index"], "begin_search index", cmd)
        begin = f"BeginSearch::Index({bs_spec['index']})"
    elif bs_type == "keyword":
        expect_keys(bs_spec, ["keyword", "startfrom"], "begin_search keyword", cmd)
        begin = (f"BeginSearch::Keyword {{ keyword: {rs_str(bs_spec['keyword'])}, "
                 f"start_from: {bs_spec['startfrom']} }}")
    elif bs_type == "unknown":
        expect_keys(bs_spec, [], "begin_search unknown", cmd)
        begin = "BeginSearch::Unknown"
    else:
        raise Unrepresentable(f"{cmd}: begin_search type {bs_type!r}")
    if fk_type == "range":
        expect_keys(fk_spec, ["lastkey", "keystep", "limit"], "find_keys range", cmd)
        find = (f"FindKeys::Range {{ last_key: {fk_spec['lastkey']}, "
                f"key_step: {fk_spec['keystep']}, limit: {fk_spec['limit']} }}")
    elif fk_type == "keynum":
        expect_keys(fk_spec, ["keynumidx", "firstkey", "keystep"], "find_keys keynum", cmd)
        find = (f"FindKeys::Keynum {{ keynum_index: {fk_spec['keynumidx']}, "
                f"first_key: {fk_spec['firstkey']}, key_step: {fk_spec['keystep']} }}")
    elif fk_type == "unknown":
        expect_keys(fk_spec, [], "find_keys unknown", cmd)
        find = "FindKeys::Unknown"
    else:
        raise Unrepresentable(f"{cmd}: find_keys type {fk_type!r}")
    if bs_type == "index" and fk_type == "range" and fk_spec["limit"] == 0:
        out = (f"KeySpec::range({flags}, {bs_spec['index']}, {fk_spec['lastkey']}, "
               f"{fk_spec['keystep']})")
    else:
        out = f"KeySpec::new({flags}, {begin}, {find})"
    if "notes" in m:
        out += f".notes({rs_str(m['notes'])})"
    return out


def emit_arg(raw, cmd):
    m = flat_map(raw)
    expect_keys(m, ["name", "type", "key_spec_index", "token", "summary", "since",
                    "deprecated_since", "flags", "arguments"], "argument", cmd)
    kind = mapped(ARG_KINDS, m["type"], "argument type", cmd)
    name = rs_str(m["name"])
    if kind == "PureToken" and "token" in m:
        out = f"Arg::pure_token({name}, {rs_str(m['token'])})"
    else:
        if kind == "Key" and "key_spec_index" in m:
            out = f"Arg::key({name}, {m['key_spec_index']})"
        else:
            out = f"Arg::new({name}, ArgKind::{kind})"
            if "key_spec_index" in m:
                out += f".key_spec({m['key_spec_index']})"
        if "token" in m:
            out += f".token({rs_str(m['token'])})"
    if "summary" in m:
        out += f".summary({rs_str(m['summary'])})"
    if "since" in m:
        out += f".since({rs_str(m['since'])})"
    if "deprecated_since" in m:
        out += f".deprecated_since({rs_str(m['deprecated_since'])})"
    for flag in m.get("flags", []):
        out += "." + mapped(ARG_FLAGS, flag, "argument flag", cmd) + "()"
    if kind in ("OneOf", "Block"):
        out += ".members(" + slice_of(emit_arg(a, cmd) for a in m.get("arguments", [])) + ")"
    elif "arguments" in m:
        raise Unrepresentable(f"{cmd}: members on a {kind} argument")
    return out


def emit_docs(raw, cmd):
    m = flat_map(raw)
    expect_keys(m, ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
                    "replaced_by", "history", "arguments", "subcommands"], "docs", cmd)
    group = mapped(GROUPS, m["group"], "group", cmd)
    if all(f in m for f in ("summary", "since", "complexity")):
        out = (f"CommandDocs::new({rs_str(m['summary'])}, {rs_str(m['since'])}, "
               f"Group::{group}, {rs_str(m['complexity'])})")
    else:
        out = f"CommandDocs::of_group(Group::{group})"
        for f in ("summary", "since", "complexity"):
            if f in m:
                out += f".{f}({rs_str(m[f])})"
    if m.get("doc_flags"):
        out += ".doc_flags(" + slice_of(
            "DocFlag::" + mapped(DOC_FLAGS, f, "doc flag", cmd) for f in m["doc_flags"]) + ")"
    if "deprecated_since" in m:
        out += f".deprecated_since({rs_str(m['deprecated_since'])})"
    if "replaced_by" in m:
        out += f".replaced_by({rs_str(m['replaced_by'])})"
    if "history" in m:
        out += ".history(" + slice_of(
            f"({rs_str(v)}, {rs_str(d)})" for v, d in m["history"]) + ")"
    if "arguments" in m:
        out += ".arguments(" + slice_of(emit_arg(a, cmd) for a in m["arguments"]) + ")"
    return out


def emit_spec(name, info, docs, subcommands):
    """One `CommandSpec` expression; `subcommands` are already emitted expressions."""
    if len(info) != 10:
        raise Unrepresentable(f"{name}: COMMAND INFO has {len(info)} elements, not 10")
    (rname, arity, flags, first, last, step, acl, tips, key_specs, _subs) = info
    if text(rname) != name:
        raise Unrepresentable(f"{name}: Redis calls it {text(rname)!r}")
    out = (f"CommandSpec::new({rs_str(name)}, {arity}, {emit_docs(docs, name)}, "
           f"parser_index::{ident(name)})")
    if flags:
        out += ".flags(" + slice_of(
            "Flag::" + mapped(COMMAND_FLAGS, f, "command flag", name) for f in flags) + ")"
    if key_specs or (first, last, step) != (0, 0, 0):
        out += f".keys({first}, {last}, {step}, " + slice_of(
            emit_key_spec(k, name) for k in key_specs) + ")"
    if acl:
        out += ".acl(" + slice_of(
            "Acl::" + mapped(ACL_CATEGORIES, c, "ACL category", name) for c in acl) + ")"
    if tips:
        out += ".tips(" + slice_of(rs_str(t) for t in tips) + ")"
    if subcommands:
        out += ".subcommands(" + slice_of(subcommands) + ")"
    return out


HEADER = """\
// @generated by scripts/gen-command-table.py from {commands} and redis-server {version}.
// Do not edit by hand: edit {commands}, then run
//     python3 scripts/gen-command-table.py
// which rewrites this file and the captures the table tests compare against.

//! The command specs, generated from redis-server {version}'s `COMMAND INFO` and `COMMAND DOCS`
//! for the commands listed in `{commands_file}`, each with its parser from `parser_index`.

use crate::command::parser_index;
use crate::command::spec::{{{imports}}};

"""

# spec.rs names the generated code may use: (import, the name it is used under).
SPEC_IMPORTS = [
    ("AclCategory as Acl", "Acl"), ("Arg", "Arg"), ("ArgKind", "ArgKind"),
    ("BeginSearch", "BeginSearch"), ("CommandDocs", "CommandDocs"),
    ("CommandFlag as Flag", "Flag"), ("CommandGroup as Group", "Group"),
    ("CommandSpec", "CommandSpec"), ("DocFlag", "DocFlag"), ("FindKeys", "FindKeys"),
    ("KeySpec", "KeySpec"), ("KeySpecFlag as Key", "Key"),
]


def read_names(path):
    names = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line != line.lower() or " " in line or line.count("|") > 1:
                sys.exit(f"{path}:{lineno}: bad command name {line!r}")
            if line in names:
                sys.exit(f"{path}:{lineno}: {line} listed twice")
            names.append(line)
    for name in names:
        if "|" in name and name.split("|")[0] not in names:
            sys.exit(f"{path}: {name} listed without its container {name.split('|')[0]}")
    return names


def generate(meta, names, commands_rel):
    top = [n for n in names if "|" not in n]
    items = []
    for name in top:
        subs = [n for n in names if n.startswith(name + "|")]
        for sub in subs:
            items.append((sub, emit_spec(sub, meta.info(sub), meta.docs(sub), [])))
        info, docs = meta.info(name), meta.docs(name)
        if subs and not info[9]:
            raise Unrepresentable(f"{name}: subcommands listed but Redis has none")
        # The container's own docs minus Redis' full subcommand map: ours is built from specs.
        docs = list(docs)
        for i in range(0, len(docs), 2):
            if text(docs[i]) == "subcommands":
                del docs[i:i + 2]
                break
        items.append((name, emit_spec(name, info, docs, [const_name(s) for s in subs])))
    used = " ".join(expr for _, expr in items)
    imports = ", ".join(imp for imp, name in SPEC_IMPORTS
                        if name == "CommandSpec" or re.search(rf"\b{name}(::|\()", used))
    body = HEADER.format(commands=commands_rel, commands_file=os.path.basename(commands_rel),
                         version=REDIS_VERSION, imports=imports)
    body += "/// Every generated top-level command, in `commands.txt` order.\n"
    body += "pub(super) static COMMANDS: &[CommandSpec] = &[\n"
    body += "".join(f"    {const_name(n)},\n" for n in top)
    body += "];\n"
    for name, expr in items:
        body += f"\n/// `{name.upper().replace('|', ' ')}`.\nconst {const_name(name)}: CommandSpec = {expr};\n"
    return body


def indent_continuations(source):
    """Lines that continue a string literal (after a line ending in `\\`) start at column 0 after
    rustfmt, which never touches a literal's text; indent them under the literal's first line
    (Rust drops a continuation's leading whitespace, so the value is unchanged)."""
    out, indent = [], None
    for line in source.split("\n"):
        if indent is not None:
            line = " " * indent + line.lstrip(" ")
        if line.endswith("\\"):
            if indent is None:
                stripped = line.lstrip(" ")
                indent = len(line) - len(stripped) + (0 if stripped.startswith('"') else 4)
        else:
            indent = None
        out.append(line)
    return "\n".join(out)


def const_name(name):
    return name.replace("|", "_").replace("-", "_").upper()


def capture_info_docs(port, names):
    out = []
    resp3, resp2 = RawConnection(port), RawConnection(port)
    resp3.call("HELLO", "3")
    for name in names:
        out.append(bulk(name))
        for conn in (resp3, resp2):
            out.append(conn.call("COMMAND", "INFO", name))
            out.append(conn.call("COMMAND", "DOCS", name))
    resp3.close()
    resp2.close()
    return b"".join(out)


def capture_getkeys(port, cases_path):
    out = []
    conn = RawConnection(port)
    with open(cases_path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            args = shlex.split(line)
            out.append(encode_command(args))
            out.append(conn.call("COMMAND", "GETKEYS", *args))
            out.append(conn.call("COMMAND", "INFO", args[0]))
    conn.close()
    return b"".join(out)


def main():
    table = os.path.join(ROOT, "src/command/table")
    testdata = os.path.join(ROOT, "src/command/testdata")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commands", default=os.path.join(table, "commands.txt"))
    ap.add_argument("--out", default=os.path.join(table, "generated.rs"))
    ap.add_argument("--capture",
                    default=os.path.join(testdata, f"redis-{REDIS_VERSION}-command-info-docs.resp"))
    ap.add_argument("--getkeys-cases", default=os.path.join(table, "getkeys-cases.txt"))
    ap.add_argument("--getkeys-capture",
                    default=os.path.join(testdata, f"redis-{REDIS_VERSION}-command-getkeys.resp"))
    ap.add_argument("--no-getkeys", action="store_true", help="skip the GETKEYS capture")
    opts = ap.parse_args()

    names = read_names(opts.commands)
    binary = ensure_redis_server()
    server = RedisServer(binary)
    try:
        meta = Metadata(server.port)
        commands_rel = os.path.relpath(os.path.abspath(opts.commands), ROOT)
        try:
            source = generate(meta, names, commands_rel)
        except Unrepresentable as e:
            sys.exit(f"cannot represent Redis metadata: {e}")
        meta.close()
        capture = capture_info_docs(server.port, names)
        getkeys = None if opts.no_getkeys else capture_getkeys(server.port, opts.getkeys_cases)
    finally:
        server.stop()

    with open(opts.out, "w") as f:
        f.write(source)
    formatted = subprocess.run(["rustfmt", "--edition", "2021", opts.out],
                               capture_output=True, text=True)
    if formatted.returncode != 0:
        sys.exit("rustfmt failed:\n" + formatted.stderr)
    with open(opts.out) as f:
        source = indent_continuations(f.read())
    with open(opts.out, "w") as f:
        f.write(source)
    with open(opts.capture, "wb") as f:
        f.write(capture)
    if getkeys is not None:
        with open(opts.getkeys_capture, "wb") as f:
            f.write(getkeys)
    print(f"{len(names)} commands -> {os.path.relpath(opts.out)}, {os.path.relpath(opts.capture)}"
          + ("" if getkeys is None else f", {os.path.relpath(opts.getkeys_capture)}"))


if __name__ == "__main__":
    main()
