%% store_bench.erl — the Erlang side of `make bench-store`: the same
%% workloads as store_bench.lua on an ETS table (in memory) and on dets
%% (on disk; "always" = dets:sync/1 after each insert), and the time to
%% load a dets file of NLOAD objects into an ETS table (dets:to_ets/2,
%% what a restart that wants the data in memory does). Prints lines
%%   erlang <workload> <ns per operation, or per load>
-module(store_bench).
-export([main/1]).

main([N0, NSync0, NLoad0, Dir]) ->
    N = list_to_integer(N0),
    NSync = list_to_integer(NSync0),
    NLoad = list_to_integer(NLoad0),
    os:cmd("rm -rf " ++ Dir),
    ok = filelib:ensure_dir(Dir ++ "/x"),
    Ets = ets:new(bench, [set, public]),
    report("insert/memory", N, fun() -> each(N, fun(K) -> ets:insert(Ets, {K, 0}) end) end),
    D1 = open(Dir, none),
    report("insert/none", N, fun() -> each(N, fun(K) -> dets:insert(D1, {K, 0}) end) end),
    ok = dets:close(D1),
    D2 = open(Dir, always),
    report("insert/always", NSync,
           fun() -> each(NSync, fun(K) -> dets:insert(D2, {K, 0}), dets:sync(D2) end) end),
    ok = dets:close(D2),
    D3 = open(Dir, big),
    ok = dets:insert(D3, [{K, 0} || K <- lists:seq(1, NLoad)]),
    ok = dets:close(D3),
    Load = fun() ->
                   {ok, D} = dets:open_file(big, [{file, Dir ++ "/big.dets"}]),
                   T = ets:new(loaded, [set, public]),
                   T = dets:to_ets(D, T),
                   NLoad = ets:info(T, size),
                   dets:close(D)
           end,
    {Us, _} = timer:tc(Load),
    io:format("erlang load/~b ~.1f~n", [NLoad, Us * 1000.0]),
    os:cmd("rm -rf " ++ Dir),
    halt().

open(Dir, Name) ->
    {ok, D} = dets:open_file(Name, [{file, Dir ++ "/" ++ atom_to_list(Name) ++ ".dets"},
                                    {type, set}]),
    D.

each(Count, F) -> each(0, Count, F).
each(I, Count, _F) when I >= Count -> ok;
each(I, Count, F) -> F((I * 618031) rem Count + 1), each(I + 1, Count, F).

report(Label, Count, F) ->
    {Us, _} = timer:tc(F),
    io:format("erlang ~s ~.1f~n", [Label, Us * 1000.0 / Count]).
