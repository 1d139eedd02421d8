------------------------- MODULE MCAsyncReplication -------------------------
(* TLC harness for AsyncReplication: symmetry.                             *)
EXTENDS AsyncReplication, TLC

\* Servers are interchangeable (Init picks any of them as the first master)
\* and so are values.
Symmetry == {p @@ q : p \in Permutations(Server), q \in Permutations(Value)}
=============================================================================
