---------------------------- MODULE MCSlotRaft ----------------------------
(* TLC harness for SlotRaft: state constraint and symmetry.                *)
EXTENDS SlotRaft, TLC

\* Bound the network: at most MaxMsgs messages in flight.  States beyond
\* the bound are still checked against the invariants, just not expanded.
MsgConstraint == Cardinality(msgs) <= MaxMsgs

\* Servers are interchangeable (no server is special in Init or Next), and
\* so are values (each is written once, only compared for equality).
Symmetry == {p @@ q : p \in Permutations(Server), q \in Permutations(Value)}
=============================================================================
