------------------------------ MODULE Reconfig ------------------------------
(***************************************************************************)
(* One slot group changing its members, the way its Raft implementation   *)
(* does it: openraft's joint consensus.  The group starts with the voters  *)
(* OldConfig; a leader moves it to NewConfig in two log entries, the joint *)
(* configuration <<OldConfig, NewConfig>> (every decision needs a majority *)
(* of both) and, once that has committed, NewConfig alone.  A server uses  *)
(* the latest configuration in its log, committed or not (Raft §6).        *)
(*                                                                         *)
(* With Joint = FALSE the leader switches directly from OldConfig to       *)
(* NewConfig in one entry: the broken variant.  When a majority of the old *)
(* voters and a majority of the new ones can be disjoint, two leaders can  *)
(* be elected in one term, and TLC must find it.                           *)
(*                                                                         *)
(* Abstractions, to keep four servers checkable in CI: an election is one  *)
(* atomic step (a candidate collects the votes of a quorum of its own      *)
(* configuration, each voter's term below the new one and the candidate's *)
(* log at least as up to date as the voter's); replication copies the     *)
(* leader's whole log to one server in one step (at different times per   *)
(* server, so each has some prefix of what the leader wrote); terms, votes *)
(* and logs are durable, roles and commit indexes are not (Restart).  The  *)
(* network, fsync and reads are modelled in SlotRaft.tla, not here.        *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Server, Value, MaxTerm, OldConfig, NewConfig, Joint, Nobody

VARIABLES
    currentTerm,    \* durable
    votedFor,       \* durable
    log,            \* durable: entries [term, kind ("val"|"cfg"), val, old, new]
    role,           \* "F" follower, "L" leader
    commitIndex,    \* a leader's commit index (volatile)
    acked           \* writes acknowledged: [val, term, index] (history, never shrinks)

vars == <<currentTerm, votedFor, log, role, commitIndex, acked>>

ValEntry(t, v) == [term |-> t, kind |-> "val", val |-> v, old |-> {}, new |-> {}]
CfgEntry(t, o, n) == [term |-> t, kind |-> "cfg", val |-> Nobody, old |-> o, new |-> n]

\* The configuration of a log: its last configuration entry, else the initial one.
CfgIndexes(lg) == {i \in 1..Len(lg) : lg[i].kind = "cfg"}
LastCfgIndex(lg) ==
    IF CfgIndexes(lg) = {} THEN 0
    ELSE CHOOSE i \in CfgIndexes(lg) : \A j \in CfgIndexes(lg) : j <= i
ConfigOf(lg) ==
    IF LastCfgIndex(lg) = 0 THEN [old |-> OldConfig, new |-> OldConfig]
    ELSE [old |-> lg[LastCfgIndex(lg)].old, new |-> lg[LastCfgIndex(lg)].new]

\* A quorum of a (possibly joint) configuration: a majority of each of its halves.
IsQuorum(Q, cfg) ==
    /\ 2 * Cardinality(Q \cap cfg.old) > Cardinality(cfg.old)
    /\ 2 * Cardinality(Q \cap cfg.new) > Cardinality(cfg.new)

Voters(cfg) == cfg.old \cup cfg.new

LastTerm(lg) == IF Len(lg) = 0 THEN 0 ELSE lg[Len(lg)].term
AtLeastAsUpToDate(a, b) ==
    \/ LastTerm(a) > LastTerm(b)
    \/ LastTerm(a) = LastTerm(b) /\ Len(a) >= Len(b)

Init ==
    /\ currentTerm = [s \in Server |-> 0]
    /\ votedFor = [s \in Server |-> Nobody]
    /\ log = [s \in Server |-> <<>>]
    /\ role = [s \in Server |-> "F"]
    /\ commitIndex = [s \in Server |-> 0]
    /\ acked = {}

\* Candidate s wins the next term with the votes of Q.
BecomeLeader(s, Q) ==
    LET t == currentTerm[s] + 1
        cfg == ConfigOf(log[s])
    IN
    /\ t <= MaxTerm
    /\ s \in Voters(cfg)
    /\ s \in Q
    /\ IsQuorum(Q, cfg)
    /\ \A q \in Q : currentTerm[q] < t /\ AtLeastAsUpToDate(log[s], log[q])
    /\ currentTerm' = [q \in Server |-> IF q \in Q THEN t ELSE currentTerm[q]]
    /\ votedFor' = [q \in Server |-> IF q \in Q THEN s ELSE votedFor[q]]
    /\ role' = [q \in Server |-> IF q = s THEN "L" ELSE IF q \in Q THEN "F" ELSE role[q]]
    /\ commitIndex' = [commitIndex EXCEPT ![s] = 0]
    /\ UNCHANGED <<log, acked>>

\* A client's write reaches leader l, which appends it.
ClientWrite(l, v) ==
    /\ role[l] = "L"
    /\ \A i \in 1..Len(log[l]) : log[l][i].val # v
    /\ log' = [log EXCEPT ![l] = Append(@, ValEntry(currentTerm[l], v))]
    /\ UNCHANGED <<currentTerm, votedFor, role, commitIndex, acked>>

\* Leader l starts (or continues) the change to NewConfig. A new configuration entry is
\* appended only once the previous one has committed (one change at a time).
Reconfigure(l) ==
    LET cfg == ConfigOf(log[l])
        append(o, n) == log' = [log EXCEPT ![l] = Append(@, CfgEntry(currentTerm[l], o, n))]
    IN
    /\ role[l] = "L"
    /\ LastCfgIndex(log[l]) <= commitIndex[l]
    /\ \/ /\ cfg = [old |-> OldConfig, new |-> OldConfig]
          /\ IF Joint THEN append(OldConfig, NewConfig) ELSE append(NewConfig, NewConfig)
       \/ /\ Joint
          /\ cfg = [old |-> OldConfig, new |-> NewConfig]
          /\ append(NewConfig, NewConfig)
    /\ UNCHANGED <<currentTerm, votedFor, role, commitIndex, acked>>

\* Leader l's log reaches server f (any server: learners and new voters too).
Replicate(l, f) ==
    /\ role[l] = "L"
    /\ f # l
    /\ currentTerm[f] <= currentTerm[l]
    /\ log' = [log EXCEPT ![f] = log[l]]
    /\ currentTerm' = [currentTerm EXCEPT ![f] = currentTerm[l]]
    /\ role' = [role EXCEPT ![f] = "F"]
    /\ UNCHANGED <<votedFor, commitIndex, acked>>

\* Leader l commits up to index i: an entry of its own term held by a quorum of its current
\* configuration; the writes up to i are acknowledged.
Commit(l, i) ==
    /\ role[l] = "L"
    /\ i \in (commitIndex[l] + 1)..Len(log[l])
    /\ log[l][i].term = currentTerm[l]
    /\ \E Q \in SUBSET Server :
        /\ IsQuorum(Q, ConfigOf(log[l]))
        /\ \A q \in Q : Len(log[q]) >= i /\ log[q][i] = log[l][i]
    /\ commitIndex' = [commitIndex EXCEPT ![l] = i]
    /\ acked' = acked \cup {[val |-> log[l][j].val, term |-> currentTerm[l], index |-> j] :
                             j \in {k \in 1..i : log[l][k].kind = "val"}}
    /\ UNCHANGED <<currentTerm, votedFor, log, role>>

\* A crash and restart: durable state kept, the rest lost.
Restart(s) ==
    /\ role' = [role EXCEPT ![s] = "F"]
    /\ commitIndex' = [commitIndex EXCEPT ![s] = 0]
    /\ UNCHANGED <<currentTerm, votedFor, log, acked>>

Next ==
    \/ \E s \in Server, Q \in SUBSET Server : BecomeLeader(s, Q)
    \/ \E l \in Server, v \in Value : ClientWrite(l, v)
    \/ \E l \in Server : Reconfigure(l)
    \/ \E l, f \in Server : Replicate(l, f)
    \/ \E l \in Server, i \in 1..4 : Commit(l, i)
    \/ \E s \in Server : Restart(s)

Spec == Init /\ [][Next]_vars

(***************************************************************************)
(* Invariants                                                              *)
(***************************************************************************)

\* At most one leader per term.
ElectionSafety ==
    \A a, b \in Server :
        role[a] = "L" /\ role[b] = "L" /\ currentTerm[a] = currentTerm[b] => a = b

\* An acknowledged write is at its index in the log of every leader of a later term.
NoLostWrite ==
    \A w \in acked : \A l \in Server :
        role[l] = "L" /\ currentTerm[l] > w.term =>
            /\ Len(log[l]) >= w.index
            /\ log[l][w.index].kind = "val"
            /\ log[l][w.index].val = w.val

\* Witness (must be violated, so that the checks above are not vacuous): the change to
\* NewConfig completes, a leader has committed it, and a write is acknowledged.
ChangeNeverCompletes ==
    ~ \E l \in Server :
        /\ role[l] = "L"
        /\ ConfigOf(log[l]) = [old |-> NewConfig, new |-> NewConfig]
        /\ LastCfgIndex(log[l]) <= commitIndex[l]
        /\ acked # {}

\* Bounds the logs (state constraint).
LogBound == \A s \in Server : Len(log[s]) <= 4
=============================================================================
