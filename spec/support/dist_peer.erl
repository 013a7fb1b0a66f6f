%% dist_peer — the Erlang side of spec/dist_spec.lua: a process registered
%% as echo on an `erl -sname` node, and a gen_server registered as gs.
%% Tags are binaries (they were before heirloom had atoms).
-module(dist_peer).
-behaviour(gen_server).
-export([start/0, init/1, handle_call/3, handle_cast/2]).

start() ->
    register(echo, spawn(fun loop/0)),
    {ok, _} = gen_server:start({local, gs}, ?MODULE, [], []),
    ok.

%% gs: {echo, X} is answered {ok, X}; {sleep, Ms} after Ms; {cast, To,
%% Node} tells {To, Node} the casts it has had.
init([]) -> {ok, []}.
handle_call({echo, X}, _From, S) -> {reply, {ok, X}, S};
handle_call({sleep, Ms}, _From, S) -> timer:sleep(Ms), {reply, slept, S};
handle_call(casts, _From, S) -> {reply, lists:reverse(S), S}.
handle_cast(X, S) -> {noreply, [X | S]}.

%% A gen_server:call made here to {Name, Node}, its result (or the exit's
%% reason) sent to {ReplyName, Node}.
gen_call(Name, Node, Req, Timeout, ReplyName) ->
    R = try {ok, gen_server:call(to(Name, Node), Req, Timeout)}
        catch exit:{Why, _} -> {exit, Why}
        end,
    to(ReplyName, Node) ! {<<"gen_call">>, R}.

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
        {<<"gen_call">>, Name, Node, Req, Timeout, ReplyName} ->
            spawn(fun() -> gen_call(Name, Node, Req, Timeout, ReplyName) end);
        {<<"ask">>, Name, Node} ->
            %% a process of this node sends its own pid; the answer comes to it
            spawn(fun() ->
                      to(Name, Node) ! {<<"ask">>, self()},
                      R = receive Answer -> Answer after 5000 -> timeout end,
                      to(Name, Node) ! {<<"answered">>, R}
                  end);
        {<<"halt">>} ->
            erlang:halt()
    end,
    loop().

%% What Erlang sends: the first ones map, the last ones are refused.
samples() ->
    [{1, [1, 2, 3]}, {2, "abc"}, {3, []}, {4, #{<<"a">> => 1, 2 => <<"b">>}},
     {5, 1.5}, {6, {true, false, nil}}, {7, {-5, 1 bsl 62, <<0, 255>>}},
     {8, 1 bsl 70}, {9, foo}, {10, self()}, {11, make_ref()}, {12, #{1 => <<"a">>, 1.0 => <<"b">>}}].
