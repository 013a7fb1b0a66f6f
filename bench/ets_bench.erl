%% ets_bench.erl — the Erlang/OTP side of `make bench`: times the same
%% workloads as bench/table_bench.c on ETS tables and prints one line per
%% workload, `erlang <type> <op> <processes> <ns_per_op> [size=20k]
%% [check=<count>/<sum>]`: size=20k on the small table (?SMALL_KEYS keys, N
%% operations), check= what a select or a walk found.
%%
%% Run compiled (erlc -o build bench/ets_bench.erl), on two schedulers:
%%   erl -noshell +S 2 -pa build -run ets_bench main [N [Type Op]]
%% N keys (default 1000000); with Type and Op (set lookup), only the
%% workloads of that table type and operation, on 1 and 2 processes and on
%% both table sizes (select and walk: 1 process; walk on an ordered_set
%% only).
%%
%% The key sequences are the ones table_bench.c and table_bench.lua build
%% (see bench/README.md): a stride permutation of 1..N for inserts and a
%% Park-Miller generator with fixed seeds for everything else. They are
%% built before the clock starts and packed into a binary, so the timed
%% loops do nothing but the table operations (and no garbage collection of
%% a large key list falls inside them).
-module(ets_bench).
-export([main/0, main/1]).

-define(DEFAULT_N, 1000000).
-define(RUNS, 3).              % timed runs per workload; the best is kept
-define(WARMUP_SHARE, 10).     % the warm-up run does N / 10 operations
-define(STRIDE, 618031).       % a prime: i -> i*STRIDE mod N permutes 0..N-1
-define(LCG_MUL, 48271).       % Park-Miller "minimal standard"
-define(LCG_MOD, 2147483647).
-define(SEED, 20240601).
-define(SMALL_KEYS, 20000).    % the table that fits in the caches
-define(SMALL_TAG, "20k").
%% select: the keys that are multiples of 10, by a scan of every object (the
%% guard is on the key but no key range). table_bench.c and table_bench.lua
%% write the same spec.
-define(SELECT_SPEC, [{{'$1', '$2'}, [{'==', {'rem', '$1', 10}, 0}], ['$1']}]).

main() -> main([]).

%% Halts in every case (under -noshell a crash would leave the VM running):
%% the workloads run in a process of their own, linked to their workers.
main(Args) ->
    {Pid, Ref} = spawn_monitor(fun() -> run_args(Args) end),
    receive
        {'DOWN', Ref, process, Pid, normal} ->
            halt(0);
        {'DOWN', Ref, process, Pid, Reason} ->
            io:format(standard_error, "ets_bench: ~p~n", [Reason]),
            halt(1)
    end.

run_args([]) ->
    run_args([integer_to_list(?DEFAULT_N)]);
run_args([N]) ->
    [run_workloads(Type, Op, list_to_integer(N))
     || Type <- [set, ordered_set],
        Op <- [insert, lookup, update_counter, mix90, select, walk]];
run_args([N, Type, "memory"]) ->
    memory(list_to_existing_atom(Type), list_to_integer(N));
run_args([N, Type, Op]) ->
    run_workloads(list_to_existing_atom(Type), list_to_existing_atom(Op),
                  list_to_integer(N)).

%% Bytes per object of a table of N objects {K, 0} (K = 1..N), as
%% ets:info(T, memory) counts them (words) times the word size:
%% `erlang <type> memory <N> <bytes_per_object>`.
memory(Type, N) ->
    T = ets:new(mem, [Type, public]),
    lists:foreach(fun(K) -> ets:insert(T, {K, 0}) end, lists:seq(1, N)),
    Bytes = ets:info(T, memory) * erlang:system_info(wordsize),
    io:format("erlang ~s memory ~b ~.1f~n", [Type, N, Bytes / N]).

run_workloads(Type, Op, N) ->
    [workload(Type, Op, Procs, N, Keys) || {Procs, Keys} <- variants(Type, Op, N)].

%% {Processes, Keys}: the N-key table, then the small one; a pass (select,
%% walk) on one process, a walk on an ordered_set only.
variants(set, walk, _N) -> [];
variants(_Type, Op, N) when Op =:= select; Op =:= walk -> [{1, N}, {1, small}];
variants(_Type, _Op, N) -> [{P, K} || K <- [N, small], P <- [1, 2]].

is_pass(Op) -> Op =:= select orelse Op =:= walk.

%% ---- table options: what a careful Erlang user picks per workload ----
%% One process: the defaults (the concurrency options only cost it). Two:
%% read_concurrency for reads alone, else OTP 25's {write_concurrency, auto}
%% (for mix90 without read_concurrency, which makes the 10% of writes dearer
%% than it saves on the reads: measured, see bench/README.md).

options(Type, _Op, 1) ->
    [Type, public];
options(Type, lookup, 2) ->
    [Type, public, {read_concurrency, true}];
options(Type, _Op, 2) ->
    [Type, public, {write_concurrency, auto}].

%% ---- one workload: a short warm-up run, then the best of ?RUNS ----
%% N operations per run on a table of Keys keys; a pass (select, walk)
%% makes N div Keys passes per run (one on the N-key table), its time given
%% per object visited.

workload(Type, Op, Procs, N, small) ->
    workload(Type, Op, Procs, N, ?SMALL_KEYS, " size=" ?SMALL_TAG);
workload(Type, Op, Procs, N, Keys) ->
    workload(Type, Op, Procs, N, Keys, "").

workload(Type, Op, Procs, N, Keys, Tag) ->
    Opts = options(Type, Op, Procs),
    Prefilled = prefilled_table(Op, Opts, Keys),
    _ = timed_run(Prefilled, Opts, Op, Procs, N div ?WARMUP_SHARE, Keys),
    Runs = [timed_run(Prefilled, Opts, Op, Procs, N, Keys) || _ <- lists:seq(1, ?RUNS)],
    drop(Prefilled),
    {Best, Check} = lists:min(Runs),
    Per = case is_pass(Op) of true -> Keys * passes(N, Keys); false -> N end,
    io:format("erlang ~s ~s ~b ~.1f~s~s~n", [Type, Op, Procs, Best / Per, Tag, check(Check)]).

check(none) -> "";
check({Count, Sum}) -> io_lib:format(" check=~b/~b", [Count, Sum]).

%% insert starts from an empty table each run; the others share one table
%% that holds {K, 0} for every K in 1..N.
prefilled_table(insert, _Opts, _N) ->
    none;
prefilled_table(_Op, Opts, N) ->
    T = ets:new(ets_bench, Opts),
    fill(T, insert_keys(0, 1, N, N)),
    T.

fill(T, <<K:32/signed, Rest/binary>>) ->
    ets:insert(T, {K, 0}),
    fill(T, Rest);
fill(_T, <<>>) ->
    ok.

drop(none) -> ok;
drop(T) -> ets:delete(T).

%% A run of Ops operations on keys 1..N: {the elapsed nanoseconds from the
%% first worker's start to the last one's end, what a pass found or none}.
%% Inserts go in rounds of at most one insert per key, each into a new,
%% empty table (made and deleted outside the clock); their times add up.
timed_run(none, Opts, insert, Procs, Ops, N) ->
    {insert_rounds(Opts, Procs, Ops, N, 0), none};
timed_run(T, _Opts, Op, Procs, Ops, N) ->
    run_workers(T, Op, Procs, Ops, N).

insert_rounds(_Opts, _Procs, Ops, _N, Elapsed) when Ops =< 0 ->
    Elapsed;
insert_rounds(Opts, Procs, Ops, N, Elapsed) ->
    Round = min(Ops, N),
    T = ets:new(ets_bench, Opts),
    {E, none} = run_workers(T, insert, Procs, Round, N),
    ets:delete(T),
    insert_rounds(Opts, Procs, Ops - Round, N, Elapsed + E).

run_workers(T, Op, Procs, Ops, N) ->
    Parent = self(),
    Pids = [spawn_link(fun() -> worker(Parent, T, Op, I, Procs, Ops, N) end)
            || I <- lists:seq(0, Procs - 1)],
    [receive {ready, P} -> ok end || P <- Pids],
    [P ! go || P <- Pids],
    Spans = [receive {done, P, T0, T1, C} -> {T0, T1, C} end || P <- Pids],
    [{_, _, Check} | _] = Spans,
    {lists:max([T1 || {_, T1, _} <- Spans]) - lists:min([T0 || {T0, _, _} <- Spans]), Check}.

worker(Parent, T, Op, I, Procs, Ops, N) ->
    Keys = keys(Op, I, Procs, Ops, N),
    erlang:garbage_collect(),
    Parent ! {ready, self()},
    receive go -> ok end,
    T0 = erlang:monotonic_time(nanosecond),
    Result = run(Op, T, Keys),
    T1 = erlang:monotonic_time(nanosecond),
    Parent ! {done, self(), T0, T1, found(Op, Result)}.

%% What a pass found, counted after the clock stopped: {Count, Sum}.
found(select, Keys) -> {length(Keys), lists:sum(Keys)};
found(walk, {Steps, Sum}) -> {Steps, Sum};
found(_Op, _) -> none.

%% ---- the timed loops ----

run(insert, T, Keys) -> fill(T, Keys);
run(lookup, T, Keys) -> lookup(T, Keys);
run(update_counter, T, Keys) -> update_counter(T, Keys);
run(mix90, T, Keys) -> mix(T, Keys);
run(select, T, Passes) -> repeat(fun() -> ets:select(T, ?SELECT_SPEC) end, Passes);
run(walk, T, Passes) -> repeat(fun() -> walk(T, ets:first(T), 0, 0) end, Passes).

%% Calls F Passes times; what the last call gave.
repeat(F, 1) -> F();
repeat(F, Passes) -> _ = F(), repeat(F, Passes - 1).

%% Counts and sums the keys on the way, as table_bench's walks do.
walk(_T, '$end_of_table', Steps, Sum) ->
    {Steps, Sum};
walk(T, K, Steps, Sum) ->
    walk(T, ets:next(T, K), Steps + 1, Sum + K).

lookup(T, <<K:32/signed, Rest/binary>>) ->
    _ = ets:lookup(T, K),
    lookup(T, Rest);
lookup(_T, <<>>) ->
    ok.

update_counter(T, <<K:32/signed, Rest/binary>>) ->
    _ = ets:update_counter(T, K, 1),
    update_counter(T, Rest);
update_counter(_T, <<>>) ->
    ok.

%% A positive K is a lookup of K, a negative one an insert of {-K, 0}.
mix(T, <<K:32/signed, Rest/binary>>) when K > 0 ->
    _ = ets:lookup(T, K),
    mix(T, Rest);
mix(T, <<K:32/signed, Rest/binary>>) ->
    ets:insert(T, {-K, 0}),
    mix(T, Rest);
mix(_T, <<>>) ->
    ok.

%% ---- key sequences (the same in table_bench.c and table_bench.lua) ----

%% A pass (select, walk) has no keys: a run of Ops operations on a table of
%% N keys makes Ops div N passes (at least one), as table_bench.c's
%% passes_of: one over the N-key table, 50 over the small one.
passes(Ops, N) when Ops > N -> Ops div N;
passes(_Ops, _N) -> 1.

%% Worker I of Procs does operations [first(I), first(I+1)) of the Ops.
first(I, Procs, Ops) -> I * Ops div Procs.

keys(Op, _I, _Procs, Ops, N) when Op =:= select; Op =:= walk -> passes(Ops, N);
keys(insert, I, Procs, Ops, N) -> insert_keys(I, Procs, Ops, N);
keys(mix90, I, Procs, Ops, N) -> mix_ops(I, Procs, Ops, N);
keys(_Op, I, Procs, Ops, N) -> random_keys(I, Procs, Ops, N).

%% Inserts: worker I's share of the permutation At -> (At*STRIDE mod N) + 1,
%% so workers insert disjoint keys and, when Ops = N, each key once.
insert_keys(I, Procs, Ops, N) ->
    permuted_keys(first(I, Procs, Ops), first(I + 1, Procs, Ops), N, <<>>).

permuted_keys(At, End, _N, Acc) when At >= End ->
    Acc;
permuted_keys(At, End, N, Acc) ->
    K = (At * ?STRIDE) rem N + 1,
    permuted_keys(At + 1, End, N, <<Acc/binary, K:32/signed>>).

seed(I) -> ?SEED + I * 7919.

next(X) -> X * ?LCG_MUL rem ?LCG_MOD.

%% Lookups and update_counter: uniformly random keys of 1..N, every worker
%% drawing from the whole key set (its own generator, seeded by I).
random_keys(I, Procs, Ops, N) ->
    Count = first(I + 1, Procs, Ops) - first(I, Procs, Ops),
    drawn_keys(Count, seed(I), N, <<>>).

drawn_keys(0, _X, _N, Acc) ->
    Acc;
drawn_keys(Count, X0, N, Acc) ->
    X = next(X0),
    K = X rem N + 1,
    drawn_keys(Count - 1, X, N, <<Acc/binary, K:32/signed>>).

%% The 90/10 mix: per operation one draw for the key and one for the kind,
%% a write (encoded as -K) when that draw is a multiple of 10.
mix_ops(I, Procs, Ops, N) ->
    Count = first(I + 1, Procs, Ops) - first(I, Procs, Ops),
    drawn_ops(Count, seed(I), N, <<>>).

drawn_ops(0, _X, _N, Acc) ->
    Acc;
drawn_ops(Count, X0, N, Acc) ->
    X1 = next(X0),
    X2 = next(X1),
    K = case X2 rem 10 of
            0 -> -(X1 rem N + 1);
            _ -> X1 rem N + 1
        end,
    drawn_ops(Count - 1, X2, N, <<Acc/binary, K:32/signed>>).
