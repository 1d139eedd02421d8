--------------------------- MODULE AsyncReplication ---------------------------
(***************************************************************************)
(* Redis Cluster's write path for one hash slot, as the contrast to        *)
(* SlotRaft: the same NoLostWrite property, and TLC shows it does not hold. *)
(*                                                                         *)
(* Written from the Redis documentation (Cluster specification, "Write    *)
(* safety" and "Replica election and promotion"; replication; WAIT;      *)
(* min-replicas-to-write; persistence / appendfsync):                     *)
(*  - the master applies a write and replies to the client before any     *)
(*    replica has it; replication is an asynchronous stream;              *)
(*  - when the master is unreachable, a replica is elected by the other   *)
(*    masters and promoted with a new, higher configEpoch; the best       *)
(*    replica (largest offset) is preferred but any replica that can      *)
(*    reach the majority may win, e.g. when the best one is partitioned   *)
(*    away with the old master;                                           *)
(*  - a master on the minority side keeps accepting writes until it       *)
(*    learns of the newer epoch, then turns into a replica of the new     *)
(*    master and resynchronises from it, discarding what it had;          *)
(*  - WAIT numreplicas makes the client wait until that many replicas     *)
(*    acknowledged the write; min-replicas-to-write N makes the master     *)
(*    refuse writes unless N replicas are connected.  The docs say that   *)
(*    WAIT "does not make Redis a strongly consistent store";             *)
(*  - with appendfsync everysec a crash loses up to the last second of    *)
(*    writes (the unsynced tail of the replication stream / AOF).         *)
(*                                                                         *)
(* A server's data is its replication stream: the sequence of writes it   *)
(* has applied, in order.  The inter-master election (failure reports,     *)
(* votes by the masters of other shards) is abstracted into one Failover  *)
(* step, which can happen at any time, since a partition can always make  *)
(* the master look failed to the majority.  Everything here is generous   *)
(* to Redis (WAIT counts every connected replica that holds the write     *)
(* now, not only those whose acknowledgement reached the master), so each *)
(* lost write TLC finds is one that Redis can lose too.                   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Server,         \* the master and replicas of the slot's shard
    Value,          \* values clients write to the key; each is written once
    MaxEpoch,       \* bound for TLC: failovers stop at this configEpoch
    WaitReplicas,   \* the client calls WAIT WaitReplicas (0: no WAIT)
    MinReplicas,    \* min-replicas-to-write (0: off)
    FsyncEverysec   \* TRUE: appendfsync everysec (a crash loses a tail)

ASSUME WaitReplicas \in Nat /\ MinReplicas \in Nat /\ MaxEpoch \in Nat
ASSUME FsyncEverysec \in BOOLEAN

Master  == "Master"
Replica == "Replica"

VARIABLES
    role,       \* Master or Replica
    epoch,      \* configEpoch of the master the server is or follows
    data,       \* the writes it has applied, in replication-stream order
    proposed,   \* values some client has written
    waiting,    \* writes whose client waits in WAIT: [val, srv, epoch]
    acked       \* acknowledged writes: [val, epoch of the replying master]

vars == <<role, epoch, data, proposed, waiting, acked>>

Vals(s) == {s[k] : k \in 1..Len(s)}

Max(S) == CHOOSE x \in S : \A y \in S : x >= y

\* Replicas connected to master m (following its epoch).
Connected(m) == {r \in Server \ {m} : role[r] = Replica /\ epoch[r] = epoch[m]}

Init ==
    \E m \in Server :
       /\ role  = [s \in Server |-> IF s = m THEN Master ELSE Replica]
       /\ epoch = [s \in Server |-> 1]
       /\ data  = [s \in Server |-> <<>>]
       /\ proposed = {}
       /\ waiting  = {}
       /\ acked    = {}

\* A client writes v through master m.  Without WAIT the master replies as
\* soon as it has applied the write, before any replica has it.
Write(m, v) ==
    /\ role[m] = Master
    /\ v \notin proposed
    /\ Cardinality(Connected(m)) >= MinReplicas
    /\ data'     = [data EXCEPT ![m] = Append(@, v)]
    /\ proposed' = proposed \cup {v}
    /\ IF WaitReplicas = 0
         THEN /\ acked' = acked \cup {[val |-> v, epoch |-> epoch[m]]}
              /\ UNCHANGED waiting
         ELSE /\ waiting' = waiting \cup {[val |-> v, srv |-> m, epoch |-> epoch[m]]}
              /\ UNCHANGED acked
    /\ UNCHANGED <<role, epoch>>

\* WAIT returns on the master that took the write, still master in the same
\* epoch: enough of its replicas hold the write.  The client now has its
\* acknowledgement.
WaitReturns(m, v) ==
    LET w == [val |-> v, srv |-> m, epoch |-> epoch[m]] IN
    /\ w \in waiting
    /\ role[m] = Master
    /\ w.val \in Vals(data[m])
    /\ Cardinality({r \in Connected(m) : w.val \in Vals(data[r])}) >= WaitReplicas
    /\ acked'   = acked \cup {[val |-> w.val, epoch |-> w.epoch]}
    /\ waiting' = waiting \ {w}
    /\ UNCHANGED <<role, epoch, data, proposed>>

\* Asynchronous replication: replica r catches up with master m of its own
\* or a newer epoch (partial resync if its stream is a prefix of m's, full
\* resync otherwise; either way it ends with m's stream so far).
Replicate(m, r) ==
    /\ role[m] = Master /\ role[r] = Replica
    /\ epoch[r] <= epoch[m]
    /\ data[r] /= data[m]
    /\ data'  = [data  EXCEPT ![r] = data[m]]
    /\ epoch' = [epoch EXCEPT ![r] = epoch[m]]
    /\ UNCHANGED <<role, proposed, waiting, acked>>

\* The master looks failed to the majority of masters (crash or partition):
\* replica r wins the election and is promoted with a new configEpoch.  The
\* old master may still be running on the other side of the partition.
Failover(r) ==
    LET newEpoch == 1 + Max({epoch[s] : s \in Server}) IN
    /\ role[r] = Replica
    /\ newEpoch <= MaxEpoch
    /\ role'  = [role  EXCEPT ![r] = Master]
    /\ epoch' = [epoch EXCEPT ![r] = newEpoch]
    /\ UNCHANGED <<data, proposed, waiting, acked>>

\* A master learns of a newer master of its slots (the partition healed):
\* it becomes that master's replica and resynchronises, discarding the
\* writes the new master does not have.
Demote(s, m) ==
    /\ role[s] = Master /\ role[m] = Master
    /\ epoch[m] > epoch[s]
    /\ role'  = [role  EXCEPT ![s] = Replica]
    /\ epoch' = [epoch EXCEPT ![s] = epoch[m]]
    /\ data'  = [data  EXCEPT ![s] = data[m]]
    /\ UNCHANGED <<proposed, waiting, acked>>

\* With appendfsync everysec a crash loses the writes of the last second:
\* the server restarts from a prefix of its stream.
Crash(s) ==
    /\ FsyncEverysec
    /\ \E n \in 0..Len(data[s]) - 1 : data' = [data EXCEPT ![s] = SubSeq(@, 1, n)]
    /\ UNCHANGED <<role, epoch, proposed, waiting, acked>>

Next ==
    \/ \E m \in Server, v \in Value : Write(m, v)
    \/ \E m \in Server, v \in Value : WaitReturns(m, v)
    \/ \E m, r \in Server : Replicate(m, r)
    \/ \E r \in Server : Failover(r)
    \/ \E s, m \in Server : Demote(s, m)
    \/ \E s \in Server : Crash(s)

Spec == Init /\ [][Next]_vars

TypeOK ==
    /\ role \in [Server -> {Master, Replica}]
    /\ epoch \in [Server -> 1..MaxEpoch]
    /\ proposed \subseteq Value

\* NoLostWrite, as in SlotRaft: every acknowledged write is in the data of
\* every master of a later epoch (every master promoted after the reply).
NoLostWrite ==
    \A a \in acked : \A s \in Server :
       (role[s] = Master /\ epoch[s] > a.epoch) => a.val \in Vals(data[s])

=============================================================================
