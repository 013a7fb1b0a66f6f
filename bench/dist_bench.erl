%% dist_bench.erl — the Erlang side of `make bench WHAT=dist`: a round trip
%% over the local distribution connection.
%%
%%   erl -sname E ... -run dist_bench echo
%%     registers echo: {Name, Node, Msg} (names as binaries, so that a
%%     heirloom sender needs no atoms) is answered with Msg to {Name, Node}.
%%   erl -sname C ... -run dist_bench main N EchoNode
%%     registers bench and times N round trips to {echo, EchoNode}, the best
%%     of three runs; prints `erlang dist <ns per round trip>`.
%% bench/dist_bench.lua is the heirloom client, with the same message.
-module(dist_bench).
-export([echo/0, main/1]).

-define(RUNS, 3).

echo() ->
    register(echo, spawn(fun loop/0)).

loop() ->
    receive
        {Name, Node, Msg} -> {binary_to_atom(Name), binary_to_atom(Node)} ! Msg;
        _ -> ok
    end,
    loop().

%% Halts in every case (under -noshell a crash would leave the VM running).
main([N, EchoNode]) ->
    {Pid, Ref} = spawn_monitor(fun() -> run(list_to_integer(N), list_to_atom(EchoNode)) end),
    receive
        {'DOWN', Ref, process, Pid, normal} -> halt(0);
        {'DOWN', Ref, process, Pid, Reason} ->
            io:format(standard_error, "dist_bench: ~p~n", [Reason]),
            halt(1)
    end.

run(N, EchoNode) ->
    register(bench, self()),
    Me = atom_to_binary(node()),
    ready(EchoNode, Me, 100),
    trips(EchoNode, Me, N div 10),   % warm-up
    Best = lists:min([timed(EchoNode, Me, N) || _ <- lists:seq(1, ?RUNS)]),
    io:format("erlang dist ~.1f~n", [Best]).

%% The echo node may still be starting: ask until it answers.
ready(_, _, 0) -> exit(echo_does_not_answer);
ready(EchoNode, Me, Tries) ->
    {echo, EchoNode} ! {<<"bench">>, Me, ready},
    receive ready -> ok after 100 -> ready(EchoNode, Me, Tries - 1) end.

timed(EchoNode, Me, N) ->
    T0 = erlang:monotonic_time(nanosecond),
    trips(EchoNode, Me, N),
    (erlang:monotonic_time(nanosecond) - T0) / N.

trips(_, _, 0) -> ok;
trips(EchoNode, Me, K) ->
    {echo, EchoNode} ! {<<"bench">>, Me, {K, <<"hello">>}},
    receive {K, _} -> ok end,
    trips(EchoNode, Me, K - 1).
