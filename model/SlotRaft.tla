------------------------------ MODULE SlotRaft ------------------------------
(***************************************************************************)
(* The write and read path of ONE slotraft slot group.                     *)
(*                                                                         *)
(* A slot group is a Raft group (openraft) replicated on the servers in    *)
(* Server.  Clients write unique values to the group's key through         *)
(* whichever server believes it is leader; the leader appends the write to *)
(* its log, replicates it with AppendEntries, commits it once a quorum has *)
(* it durably in the log (and it is from the leader's own term), applies   *)
(* it, and only then acknowledges it (ARCHITECTURE.md rule 1).  Reads go through *)
(* ReadIndex (ARCHITECTURE.md rule 2).                                           *)
(*                                                                         *)
(* Written from the Raft paper (Ongaro & Ousterhout, "In Search of an      *)
(* Understandable Consensus Algorithm", extended version, Figure 2 and     *)
(* sections 5.1-5.4, 8) and from the slotraft DESIGN.md.                   *)
(*                                                                         *)
(* Faults: messages can be lost (Drop), duplicated (a handler may leave    *)
(* the message in the network) and reordered (the network is a set);      *)
(* a network partition is message loss.  Any server can crash and restart  *)
(* at any time: it keeps its durable state (currentTerm, votedFor, log)    *)
(* and loses everything else.                                              *)
(*                                                                         *)
(* Replies: only replies that change their receiver's state are modelled *)
(* (a granted vote, a successful append, a heartbeat answer in the        *)
(* sender's term).  A Raft refusal carries nothing but the refuser's      *)
(* newer term, which makes a stale leader or candidate step down sooner.  *)
(* In the model it steps down on the first request of that newer term it  *)
(* receives instead (every candidate and leader may send to every server).*)
(* When a stale server steps down only affects liveness: until then every *)
(* request it sends is refused by the servers that have moved on.         *)
(*                                                                         *)
(* The Bug* constants each break exactly one rule.  They are all FALSE in  *)
(* the correct configuration; the broken configurations (MC_*.cfg) turn    *)
(* on one each to show that the invariants below are not vacuous.          *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Server,      \* the replicas of the slot group (model values)
    Value,       \* the values clients write to the key; each is written once
    Nil,         \* model value: "voted for nobody"
    MaxTerm,     \* bound for TLC: no server starts an election beyond this term
    MaxMsgs,     \* bound for TLC (used by the state constraint in MCSlotRaft)
    CanCrash,    \* TRUE: servers may crash and restart (any number of times)
    NetFaults,   \* TRUE: the network loses and duplicates messages (it
                 \*   always reorders them); FALSE only in bug-hunting configs
    CanRead      \* TRUE: clients read (through ReadIndex)

CONSTANTS
    BugAckBeforeCommit,  \* reply to the client once the entry is in the leader's log
    BugLogNotDurable,    \* the log is not fsynced before it is reported appended:
                         \*   a crash loses an arbitrary suffix of it
    BugVoteNotDurable,   \* the vote is not persisted: a crash forgets votedFor
    BugCommitOldTerm,    \* commit any entry stored on a quorum, even one from an
                         \*   older term (the rule Raft section 5.4.2 forbids)
    BugReadNoConfirm     \* serve a read from the leader's local applied state,
                         \*   without ReadIndex's quorum confirmation

ASSUME MaxTerm \in Nat /\ MaxMsgs \in Nat /\ CanCrash \in BOOLEAN /\ NetFaults \in BOOLEAN
ASSUME CanRead \in BOOLEAN
ASSUME Nil \notin Server
ASSUME \A b \in {BugAckBeforeCommit, BugLogNotDurable, BugVoteNotDurable,
                 BugCommitOldTerm, BugReadNoConfirm} : b \in BOOLEAN

Follower  == "Follower"
Candidate == "Candidate"
Leader    == "Leader"

----------------------------------------------------------------------------
VARIABLES
    \* ---- durable state of each server (survives a crash) ----
    currentTerm,   \* latest term the server has seen
    votedFor,      \* candidate it voted for in currentTerm, or Nil
    log,           \* its log: a sequence of [term, val] entries
    \* ---- volatile state of each server (lost on a crash) ----
    role,          \* Follower, Candidate or Leader
    votesGranted,  \* candidate: servers that granted it their vote
    matchIndex,    \* leader: highest index known to be stored on each peer
    commitIndex,   \* highest index known committed; entries up to it are
                   \*   applied (apply is deterministic and local, so it is
                   \*   folded into the step that advances commitIndex)
    \* ---- the network ----
    msgs,          \* the set of messages in flight
    \* ---- clients and history (not part of any server) ----
    proposed,      \* values some client has written (each value at most once)
    acked,         \* acknowledged writes: [val, term of the acking leader, idx]
    committed,     \* every commit a leader made: [idx, ent, term of that leader]
    applied,       \* every <<idx, entry>> any server ever applied
    rd             \* the ReadIndex read in progress, if any

serverVars == <<currentTerm, votedFor, log, role, votesGranted, matchIndex,
                commitIndex>>
vars == <<currentTerm, votedFor, log, role, votesGranted, matchIndex,
          commitIndex, msgs, proposed, acked, committed, applied, rd>>

----------------------------------------------------------------------------
(* Helpers *)

Quorum(S) == 2 * Cardinality(S) > Cardinality(Server)

Max(a, b) == IF a >= b THEN a ELSE b
Min(a, b) == IF a <= b THEN a ELSE b
MaxSet(S) == CHOOSE x \in S : \A y \in S : x >= y

LastTerm(l) == IF Len(l) = 0 THEN 0 ELSE l[Len(l)].term

\* Values in the first n entries of log l: what a server that applied up to
\* n has in its keyspace for the key (the register's value is the last one).
AppliedVals(l, n) == {l[k].val : k \in 1..n}

Entry == [term : 1..MaxTerm, val : Value]

\* No read in progress.
NoRead == [phase |-> "idle", srv |-> Nil, term |-> 0, idx |-> 0,
           seen |-> {}, confirm |-> {}]

\* Receiving a request m and sending the set of replies out.  The handler
\* may consume m or leave it in the network, so that it can be delivered
\* again (duplication).  Drop below models loss.
Reply(m, out) == \/ msgs' = (msgs \ {m}) \cup out
                 \/ NetFaults /\ msgs' = msgs \cup out

\* Receiving a response m.  Responses are idempotent at their receiver (a
\* vote counted twice, a match index raised to the same value, a read
\* confirmed twice change nothing), so delivering one twice is the same as
\* delivering it once: responses are consumed; they can still be lost.
Consume(m) == msgs' = msgs \ {m}

\* Volatile state of server i after it (re)becomes a follower.
BecomeFollower(i) ==
    /\ role'         = [role         EXCEPT ![i] = Follower]
    /\ votesGranted' = [votesGranted EXCEPT ![i] = {}]
    /\ matchIndex'   = [matchIndex   EXCEPT ![i] = [j \in Server |-> 0]]

\* A read can still be answered only while its server is leader of the
\* term in which it started.  Once that is over, the read is abandoned (the
\* client gets an error and retries): every step that may change a
\* server's role or term ends with ReadCleanup, which does that.
ReadLive(r, ro, ct) ==
    r.phase = "pending" /\ ro[r.srv] = Leader /\ ct[r.srv] = r.term

ReadCleanup ==
    rd' = IF rd.phase = "pending" /\ ~ReadLive(rd, role', currentTerm')
            THEN NoRead ELSE rd

----------------------------------------------------------------------------
(* Initial state: nobody has voted, all logs are empty. *)

Init ==
    /\ currentTerm  = [i \in Server |-> 0]
    /\ votedFor     = [i \in Server |-> Nil]
    /\ log          = [i \in Server |-> <<>>]
    /\ role         = [i \in Server |-> Follower]
    /\ votesGranted = [i \in Server |-> {}]
    /\ matchIndex   = [i \in Server |-> [j \in Server |-> 0]]
    /\ commitIndex  = [i \in Server |-> 0]
    /\ msgs         = {}
    /\ proposed     = {}
    /\ acked        = {}
    /\ committed    = {}
    /\ applied      = {}
    /\ rd           = NoRead

----------------------------------------------------------------------------
(* Elections (Raft section 5.2, 5.4.1). *)

\* A request for i's vote in term t, describing i's log.
RequestVoteMsg(i, j, t) ==
    [mtype |-> "RequestVote", term |-> t, lastTerm |-> LastTerm(log[i]),
     lastIdx |-> Len(log[i]), src |-> i, dst |-> j]

\* A ReadIndex heartbeat from leader i to j.
HeartbeatMsg(i, j) == [mtype |-> "Heartbeat", term |-> currentTerm[i],
                       src |-> i, dst |-> j]

\* Server i's election timer fires: it starts an election in the next term,
\* votes for itself (the vote is persisted before any RequestVote is sent)
\* and sends a RequestVote to peer k (RequestVote below sends the others;
\* sending one at once is a local step and the network may delay it).
\* Timers are local and arbitrary, so any server may do this at any time;
\* Raft's safety does not depend on when.  The model lets a leader do
\* it too (a leader that stepped down, e.g. after losing touch with its
\* quorum or on a leader transfer, and then timed out): a superset of what
\* openraft does, so safety shown here holds for openraft's behaviours.
Timeout(i, k) ==
    /\ currentTerm[i] < MaxTerm
    /\ k /= i
    /\ currentTerm'  = [currentTerm  EXCEPT ![i] = @ + 1]
    /\ votedFor'     = [votedFor     EXCEPT ![i] = i]
    /\ role'         = [role         EXCEPT ![i] = Candidate]
    /\ votesGranted' = [votesGranted EXCEPT ![i] = {i}]
    /\ matchIndex'   = [matchIndex   EXCEPT ![i] = [j \in Server |-> 0]]
    /\ msgs' = msgs \cup {RequestVoteMsg(i, k, currentTerm[i] + 1)}
    /\ UNCHANGED <<log, commitIndex, proposed, acked, committed, applied>>
    /\ ReadCleanup

\* Candidate i asks j for its vote (again, if the request was lost).
RequestVote(i, j) ==
    /\ role[i] = Candidate
    /\ j /= i
    /\ msgs' = msgs \cup {RequestVoteMsg(i, j, currentTerm[i])}
    /\ UNCHANGED <<serverVars, proposed, acked, committed, applied>>
    /\ ReadCleanup

\* Server i handles a RequestVote.  It first adopts a higher term (and then
\* has voted for nobody in it).  It grants the vote if the request is for
\* its current term, it has not voted for someone else in that term, and the
\* candidate's log is at least as up-to-date as its own (section 5.4.1).
\* The vote is persisted before the reply is sent.
HandleRequestVote(m) ==
    LET i     == m.dst
        t     == Max(currentTerm[i], m.term)
        vf    == IF m.term > currentTerm[i] THEN Nil ELSE votedFor[i]
        logOk == \/ m.lastTerm > LastTerm(log[i])
                 \/ /\ m.lastTerm = LastTerm(log[i])
                    /\ m.lastIdx >= Len(log[i])
        grant == m.term = t /\ logOk /\ vf \in {Nil, m.src}
    IN
    /\ m.mtype = "RequestVote"
    /\ currentTerm' = [currentTerm EXCEPT ![i] = t]
    /\ votedFor'    = [votedFor    EXCEPT ![i] = IF grant THEN m.src ELSE vf]
    /\ IF m.term > currentTerm[i]
         THEN BecomeFollower(i)
         ELSE UNCHANGED <<role, votesGranted, matchIndex>>
    /\ Reply(m, IF grant
                THEN {[mtype |-> "RequestVoteResp", term |-> t, src |-> i, dst |-> m.src]}
                ELSE {})
    /\ UNCHANGED <<log, commitIndex, proposed, acked, committed, applied>>
    /\ ReadCleanup

\* Candidate i counts a vote; with a quorum it becomes leader at once.
HandleRequestVoteResp(m) ==
    LET i == m.dst IN
    /\ m.mtype = "RequestVoteResp"
    /\ IF m.term = currentTerm[i] /\ role[i] = Candidate THEN
          LET votes == votesGranted[i] \cup {m.src} IN
          /\ votesGranted' = [votesGranted EXCEPT ![i] = votes]
          /\ IF Quorum(votes)
               THEN /\ role'       = [role EXCEPT ![i] = Leader]
                    /\ matchIndex' = [matchIndex EXCEPT ![i] =
                                         [j \in Server |-> 0]]
               ELSE UNCHANGED <<role, matchIndex>>
          /\ UNCHANGED <<currentTerm, votedFor, log, commitIndex>>
       ELSE UNCHANGED serverVars                  \* stale: ignored
    /\ Consume(m)
    /\ UNCHANGED <<proposed, acked, committed, applied>>
    /\ ReadCleanup

----------------------------------------------------------------------------
(* Client writes and log replication (Raft section 5.3, 5.4.2). *)

\* A client writes the fresh value v through server i, which believes it is
\* leader.  The leader appends it to its own log; in slotraft the append is
\* fsynced (group commit) before the leader counts itself as storing it.
ClientWrite(i, v) ==
    /\ role[i] = Leader
    /\ v \notin proposed
    /\ log'      = [log EXCEPT ![i] = Append(@, [term |-> currentTerm[i],
                                                 val  |-> v])]
    /\ proposed' = proposed \cup {v}
    /\ UNCHANGED <<currentTerm, votedFor, role, votesGranted, matchIndex,
                   commitIndex, msgs, acked, committed, applied>>
    /\ ReadCleanup

\* Leader i sends j the suffix of its log after index prev = nextIndex - 1.
\* The model lets the leader pick any prev from what it knows j stores
\* (matchIndex) up to the end of its log: that covers every value Raft's
\* nextIndex can have (it starts past the end, is lowered on a refusal and
\* never drops below matchIndex + 1).  prev = Len(log[i]) is a heartbeat.
\* The request carries the leader's commit index.
AppendEntries(i, j, prev) ==
    /\ role[i] = Leader
    /\ j /= i
    /\ prev \in matchIndex[i][j]..Len(log[i])
    /\ msgs' = msgs \cup
          {[mtype    |-> "AppendEntries",
            term     |-> currentTerm[i],
            prevIdx  |-> prev,
            prevTerm |-> IF prev = 0 THEN 0 ELSE log[i][prev].term,
            entries  |-> SubSeq(log[i], prev + 1, Len(log[i])),
            commit   |-> commitIndex[i],
            src |-> i, dst |-> j]}
    /\ UNCHANGED <<serverVars, proposed, acked, committed, applied>>
    /\ ReadCleanup

\* The log l after receiving entries ents that follow index prev, where l
\* matches at prev: entries already present (same index, same term) are
\* kept, the first conflicting entry and everything after it is replaced.
\* A stale, shorter AppendEntries therefore never truncates anything.
MergeLog(l, prev, ents) ==
    LET Conflict(k) == \/ prev + k > Len(l)
                       \/ l[prev + k].term /= ents[k].term
        C == {k \in 1..Len(ents) : Conflict(k)}
    IN IF C = {} THEN l
       ELSE LET k == CHOOSE c \in C : \A d \in C : c <= d
            IN SubSeq(l, 1, prev + k - 1) \o SubSeq(ents, k, Len(ents))

\* Server j handles an AppendEntries.  A request from an older term is
\* ignored (see "Replies" in the header).  Otherwise j
\* adopts the term, follows the sender, and if its log contains the entry
\* at prevIdx with prevTerm it merges the entries (durably: append + fsync
\* before the reply), advances its commit index to what the leader says
\* is committed (bounded by what this request proves it stores), applies,
\* and reports the index it now matches.  On a mismatch the leader learns
\* nothing it needs (it picks prev freely), so no reply is modelled.
HandleAppendEntries(m) ==
    LET j     == m.dst
        logOk == \/ m.prevIdx = 0
                 \/ /\ m.prevIdx <= Len(log[j])
                    /\ log[j][m.prevIdx].term = m.prevTerm
        newLog    == MergeLog(log[j], m.prevIdx, m.entries)
        lastNew   == m.prevIdx + Len(m.entries)
        newCommit == Max(commitIndex[j], Min(m.commit, lastNew))
    IN
    /\ m.mtype = "AppendEntries"
    /\ IF m.term < currentTerm[j] THEN
          /\ Reply(m, {})
          /\ UNCHANGED <<serverVars, applied>>
       ELSE
          /\ currentTerm' = [currentTerm EXCEPT ![j] = m.term]
          /\ votedFor'    = [votedFor EXCEPT ![j] =
                               IF m.term > currentTerm[j] THEN Nil ELSE @]
          /\ IF role[j] = Follower /\ m.term = currentTerm[j]
               THEN UNCHANGED <<role, votesGranted, matchIndex>>
               ELSE BecomeFollower(j)
          /\ IF logOk THEN
                /\ log'         = [log EXCEPT ![j] = newLog]
                /\ commitIndex' = [commitIndex EXCEPT ![j] = newCommit]
                /\ applied'     = applied \cup
                       {<<k, newLog[k]>> : k \in commitIndex[j]+1..newCommit}
                /\ Reply(m, {[mtype |-> "AppendEntriesResp", term |-> m.term,
                              match |-> lastNew,
                              src |-> j, dst |-> m.src]})
             ELSE
                /\ Reply(m, {})
                /\ UNCHANGED <<log, commitIndex, applied>>
    /\ UNCHANGED <<proposed, acked, committed>>
    /\ ReadCleanup

\* Leader i learns that m.src stores its log up to m.match and advances its
\* commit index to the highest index N stored on a quorum (itself included)
\* whose entry is from its own term (section 5.4.2); all entries up to N
\* are then committed and applied, in order.
HandleAppendEntriesResp(m) ==
    LET i == m.dst IN
    /\ m.mtype = "AppendEntriesResp"
    /\ IF m.term = currentTerm[i] /\ role[i] = Leader THEN
          LET mi == [matchIndex[i] EXCEPT ![m.src] = Max(@, m.match)]
              Agree(N) == {i} \cup {k \in Server \ {i} : mi[k] >= N}
              Ok(N) == /\ Quorum(Agree(N))
                       /\ \/ log[i][N].term = currentTerm[i]
                          \/ BugCommitOldTerm
              Cands == {N \in commitIndex[i]+1..Len(log[i]) : Ok(N)}
              newCommit == IF Cands = {} THEN commitIndex[i] ELSE MaxSet(Cands)
              newly == commitIndex[i]+1..newCommit
          IN
          /\ matchIndex'  = [matchIndex  EXCEPT ![i] = mi]
          /\ commitIndex' = [commitIndex EXCEPT ![i] = newCommit]
          /\ committed'   = committed \cup
                {[idx |-> k, ent |-> log[i][k], term |-> currentTerm[i]] :
                     k \in newly}
          /\ applied'     = applied \cup {<<k, log[i][k]>> : k \in newly}
          /\ UNCHANGED <<currentTerm, votedFor, log, role, votesGranted>>
       ELSE UNCHANGED <<serverVars, committed, applied>>
    /\ Consume(m)
    /\ UNCHANGED <<proposed, acked>>
    /\ ReadCleanup

\* Leader i acknowledges the write of v: the entry is committed and applied
\* on i (ARCHITECTURE.md rule 1).  With BugAckBeforeCommit it replies as soon as
\* the entry is in its own log.  openraft only answers the client of an
\* entry the same leader proposed in its current term; the model lets any
\* leader answer for any entry it has applied (as if the client retried
\* through it and the retry was recognised), a superset of behaviours.
ClientAck(i, v) ==
    /\ role[i] = Leader
    /\ v \notin {a.val : a \in acked}
    /\ \E k \in 1..Len(log[i]) :
          /\ log[i][k].val = v
          /\ k <= commitIndex[i] \/ BugAckBeforeCommit
          /\ acked' = acked \cup {[val |-> v, term |-> currentTerm[i], idx |-> k]}
    /\ UNCHANGED <<serverVars, msgs, proposed, committed, applied>>
    /\ ReadCleanup

----------------------------------------------------------------------------
(* Linearizable reads: ReadIndex (Raft section 6.4; openraft              *)
(* ensure_linearizable).  One read is in progress at a time (reads do not  *)
(* interact with each other, so one at a time covers them); a new one may  *)
(* start once the previous one is over, without bound.                     *)

\* The leader has committed an entry of its own term: only then is its
\* commit index known to cover everything committed by earlier leaders.
\* (openraft commits a blank entry at the start of each term for this.)
CommittedInOwnTerm(i) ==
    \E k \in 1..commitIndex[i] : log[i][k].term = currentTerm[i]

\* A client's read arrives at leader i.  Its read index is i's commit index,
\* seen is the set of writes acknowledged before the read started.  The
\* leader sends the first confirmation heartbeat at once (to k; the others
\* by ReadHeartbeat), after the read started, so any answer is fresh.
ReadStart(i, k) ==
    /\ CanRead
    /\ rd.phase = "idle"
    /\ role[i] = Leader
    /\ CommittedInOwnTerm(i) \/ BugReadNoConfirm
    /\ k /= i
    /\ rd' = [phase |-> "pending", srv |-> i, term |-> currentTerm[i],
              idx |-> commitIndex[i], seen |-> {a.val : a \in acked},
              confirm |-> {i}]
    /\ msgs' = msgs \cup {HeartbeatMsg(i, k)}
    /\ UNCHANGED <<serverVars, proposed, acked, committed, applied>>

\* The leader confirms it is still leader: a heartbeat to j.
ReadHeartbeat(i, j) ==
    /\ rd.phase = "pending" /\ rd.srv = i
    /\ j /= i
    /\ msgs' = msgs \cup {HeartbeatMsg(i, j)}
    /\ UNCHANGED <<serverVars, proposed, acked, committed, applied>>
    /\ ReadCleanup

\* j answers a heartbeat of its current or a newer term, adopting the term
\* (and following the leader of its current term); older ones are ignored.
HandleHeartbeat(m) ==
    LET j == m.dst IN
    /\ m.mtype = "Heartbeat"
    /\ IF m.term < currentTerm[j] THEN
          /\ UNCHANGED serverVars
          /\ Reply(m, {})
       ELSE
          /\ currentTerm' = [currentTerm EXCEPT ![j] = m.term]
          /\ votedFor'    = [votedFor EXCEPT ![j] =
                               IF m.term > currentTerm[j] THEN Nil ELSE @]
          /\ IF role[j] = Follower /\ m.term = currentTerm[j]
               THEN UNCHANGED <<role, votesGranted, matchIndex>>
               ELSE BecomeFollower(j)
          /\ UNCHANGED <<log, commitIndex>>
          /\ Reply(m, {[mtype |-> "HeartbeatResp", term |-> m.term,
                        src |-> j, dst |-> m.src]})
    /\ UNCHANGED <<proposed, acked, committed, applied>>
    /\ ReadCleanup

\* Leader i counts a confirmation of the read's term.  Only the current
\* read can be confirmed: a server leads a term at most once and holds at
\* most one read in it, so a response in the read's term is for this read.
HandleHeartbeatResp(m) ==
    LET i == m.dst IN
    /\ m.mtype = "HeartbeatResp"
    /\ IF rd.phase = "pending" /\ rd.srv = i /\ rd.term = m.term
         THEN rd' = [rd EXCEPT !.confirm = @ \cup {m.src}]
         ELSE UNCHANGED rd
    /\ Consume(m)
    /\ UNCHANGED <<serverVars, proposed, acked, committed, applied>>

\* The read can be answered now: a quorum confirmed the read's term after
\* the read started, and the leader has applied up to the read index.
\* The answer is the key's value in the leader's applied state.  The model
\* has no separate answer step: the answer may be given in any state in
\* which ReadReady holds, and ReadsSeeAckedWrites judges every such state.
ReadReady ==
    /\ ReadLive(rd, role, currentTerm)
    /\ Quorum(rd.confirm) \/ BugReadNoConfirm
    /\ commitIndex[rd.srv] >= rd.idx

----------------------------------------------------------------------------
(* Faults *)

\* Server i crashes and restarts.  Durable: currentTerm, votedFor, log.
\* Lost: role, votes, matchIndex, commitIndex (relearned from the leader).
\* With BugVoteNotDurable the vote is lost; with BugLogNotDurable any suffix
\* of the log that had not reached the disk is lost.
Restart(i) ==
    /\ CanCrash
    /\ role'         = [role         EXCEPT ![i] = Follower]
    /\ votesGranted' = [votesGranted EXCEPT ![i] = {}]
    /\ matchIndex'   = [matchIndex   EXCEPT ![i] = [j \in Server |-> 0]]
    /\ commitIndex'  = [commitIndex  EXCEPT ![i] = 0]
    /\ votedFor'     = IF BugVoteNotDurable
                         THEN [votedFor EXCEPT ![i] = Nil]
                         ELSE votedFor
    /\ IF BugLogNotDurable
         THEN \E n \in 0..Len(log[i]) : log' = [log EXCEPT ![i] = SubSeq(@, 1, n)]
         ELSE UNCHANGED log
    /\ UNCHANGED <<currentTerm, msgs, proposed, acked, committed, applied>>
    /\ ReadCleanup

\* The network loses a message (a partition is a sustained loss).
Drop(m) ==
    /\ NetFaults
    /\ msgs' = msgs \ {m}
    /\ UNCHANGED <<serverVars, proposed, acked, committed, applied>>
    /\ ReadCleanup

Next ==
    \/ \E i, k \in Server : Timeout(i, k)
    \/ \E i, j \in Server : RequestVote(i, j)
    \/ \E i \in Server, v \in Value : ClientWrite(i, v)
    \/ \E i, j \in Server : \E prev \in 0..Len(log[i]) : AppendEntries(i, j, prev)
    \/ \E i \in Server, v \in Value : ClientAck(i, v)
    \/ \E i, k \in Server : ReadStart(i, k)
    \/ \E i, j \in Server : ReadHeartbeat(i, j)
    \/ \E i \in Server : Restart(i)
    \/ \E m \in msgs : HandleRequestVote(m)
    \/ \E m \in msgs : HandleRequestVoteResp(m)
    \/ \E m \in msgs : HandleAppendEntries(m)
    \/ \E m \in msgs : HandleAppendEntriesResp(m)
    \/ \E m \in msgs : HandleHeartbeat(m)
    \/ \E m \in msgs : HandleHeartbeatResp(m)
    \/ \E m \in msgs : Drop(m)

Spec == Init /\ [][Next]_vars

----------------------------------------------------------------------------
(* Invariants *)

TypeOK ==
    /\ currentTerm \in [Server -> 0..MaxTerm]
    /\ votedFor \in [Server -> Server \cup {Nil}]
    /\ \A i \in Server : log[i] \in Seq(Entry) /\ Len(log[i]) <= Cardinality(Value)
    /\ role \in [Server -> {Follower, Candidate, Leader}]
    /\ votesGranted \in [Server -> SUBSET Server]
    /\ matchIndex \in [Server -> [Server -> 0..Cardinality(Value)]]
    /\ \A i \in Server : commitIndex[i] \in 0..Len(log[i])
    /\ proposed \subseteq Value
    /\ rd.phase \in {"idle", "pending"}
    /\ rd.phase = "pending" => ReadLive(rd, role, currentTerm)

\* NoLostWrite: the property slotraft exists for.  Once a write has been
\* acknowledged (by the leader of term a.term, at log index a.idx):
\*   (1) the log of every leader of a later term contains it, at a.idx, and
\*   (2) every server whose committed (applied) prefix reaches a.idx has it
\*       there: from then on it is in every committed prefix.
NoLostWrite ==
    \A a \in acked :
       /\ \A i \in Server :
             (role[i] = Leader /\ currentTerm[i] > a.term) =>
                 /\ Len(log[i]) >= a.idx
                 /\ log[i][a.idx].val = a.val
       /\ \A i \in Server :
             commitIndex[i] >= a.idx => log[i][a.idx].val = a.val

\* ElectionSafety (Raft Figure 3): at most one leader per term.
ElectionSafety ==
    \A i, j \in Server :
       (role[i] = Leader /\ role[j] = Leader /\ currentTerm[i] = currentTerm[j])
           => i = j

\* LogMatching (Raft Figure 3): if two logs have an entry with the same index
\* and term, the logs are identical up to and including that index.
LogMatching ==
    \A i, j \in Server : \A k \in 1..Min(Len(log[i]), Len(log[j])) :
       log[i][k].term = log[j][k].term =>
           SubSeq(log[i], 1, k) = SubSeq(log[j], 1, k)

\* LeaderCompleteness (Raft Figure 3): an entry committed by the leader of
\* term c.term is in the log of every leader of a later term.
LeaderCompleteness ==
    \A c \in committed : \A i \in Server :
       (role[i] = Leader /\ currentTerm[i] > c.term) =>
           /\ Len(log[i]) >= c.idx
           /\ log[i][c.idx] = c.ent

\* StateMachineSafety (Raft Figure 3): no two servers ever apply different
\* entries at the same index (over the whole history, including servers
\* that have since crashed), and what a server has applied now agrees with
\* every commit ever made.
StateMachineSafety ==
    /\ \A x, y \in applied : x[1] = y[1] => x[2] = y[2]
    /\ \A c \in committed : \A i \in Server :
          commitIndex[i] >= c.idx => log[i][c.idx] = c.ent

\* ReadsSeeAckedWrites: a read answered now returns a state that contains
\* every write acknowledged before the read started, i.e. the key's value
\* it returns is that write or a later one.
ReadsSeeAckedWrites ==
    ReadReady => rd.seen \subseteq AppliedVals(log[rd.srv], commitIndex[rd.srv])

=============================================================================
