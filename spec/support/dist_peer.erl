%% dist_peer — the Erlang side of spec/dist_spec.lua: a process registered
%% as echo on an `erl -sname` node. heirloom maps Erlang atoms other than
%% true, false and nil to an error, so every tag here is a binary.
-module(dist_peer).
-export([start/0]).

start() ->
    register(echo, spawn(fun loop/0)),
    ok.

to(Name, Node) -> {binary_to_atom(Name), binary_to_atom(Node)}.

loop() ->
    receive
        {From, Msg} when is_pid(From) ->
            From ! {<<"echo">>, Msg};
        {<<"to">>, Name, Node, Msg} ->
            to(Name, Node) ! {<<"echo">>, Msg};
        {<<"samples">>, Name, Node} ->
            [to(Name, Node) ! {<<"sample">>, I, T} || {I, T} <- samples()];
        {<<"ping">>, Name, Node, Other} ->
            to(Name, Node) ! {<<"ping">>, net_adm:ping(binary_to_atom(Other)) =:= pong};
        {<<"halt">>} ->
            erlang:halt()
    end,
    loop().

%% What Erlang sends: the first ones map, the last ones are refused.
samples() ->
    [{1, [1, 2, 3]}, {2, "abc"}, {3, []}, {4, #{<<"a">> => 1, 2 => <<"b">>}},
     {5, 1.5}, {6, {true, false, nil}}, {7, {-5, 1 bsl 62, <<0, 255>>}},
     {8, 1 bsl 70}, {9, foo}, {10, self()}, {11, make_ref()}, {12, #{1 => <<"a">>, 1.0 => <<"b">>}}].
