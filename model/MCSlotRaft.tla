---------------------------- MODULE MCSlotRaft ----------------------------
(* TLC harness for SlotRaft: state constraint and symmetry.                *)
EXTENDS SlotRaft, TLC

\* Bound the network: at most MaxMsgs messages in flight.  States beyond
\* the bound are still checked against the invariants, just not expanded.
MsgConstraint == Cardinality(msgs) <= MaxMsgs

\* Servers are interchangeable (no server is special in Init or Next), and
\* so are values (each is written once, only compared for equality).
Symmetry == {p @@ q : p \in Permutations(Server), q \in Permutations(Value)}

\* Witnesses: "invariants" that the correct spec must VIOLATE, to show that
\* the situations the real invariants speak about are reachable within the
\* bounds (check.sh expects TLC to report each of them as violated).
\* A write is acknowledged and later a leader of a higher term is elected
\* (the premise of NoLostWrite (1)).
NoLeaderAfterAck ==
    ~\E a \in acked : \E i \in Server :
        role[i] = Leader /\ currentTerm[i] > a.term
\* A read that started after an acknowledgement can be answered (the
\* premise of ReadsSeeAckedWrites).
NoReadAfterAck ==
    ~(ReadReady /\ rd.seen /= {})
=============================================================================
