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
        {<<"lists">>, Name, Node} ->
            to(Name, Node) ! {<<"lists">>, lists_sample()};
        {<<"lists_back">>, X, Name, Node} ->
            %% what came back is exactly what was sent, lists as lists
            to(Name, Node) ! {<<"lists_back">>, X =:= lists_sample()};
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
        {<<"link">>, Pid, Name, Node} ->
            %% an Erlang process links to Pid and reports the EXIT it gets
            spawn(fun() ->
                          process_flag(trap_exit, true),
                          link(Pid),
                          to(Name, Node) ! {<<"linked">>},
                          receive {'EXIT', Pid, R} -> to(Name, Node) ! {<<"exit">>, reason(R)} end
                  end);
        {<<"monitor">>, Target, Name, Node} ->
            %% Target: a pid, or {RegName, Node} as binaries
            spawn(fun() ->
                          Ref = erlang:monitor(process, target(Target)),
                          to(Name, Node) ! {<<"monitoring">>},
                          receive {'DOWN', Ref, process, _, R} -> to(Name, Node) ! {<<"down">>, reason(R)} end
                  end);
        {<<"exit">>, Pid, Reason} ->
            exit(Pid, binary_to_atom(Reason));
        {<<"link_exit">>, Pid, Reason, Name, Node} ->
            %% a process linked to Pid exits with Reason (after Pid has the link)
            spawn(fun() ->
                          link(Pid),
                          to(Name, Node) ! {<<"linked">>},
                          receive after 100 -> ok end,
                          exit(binary_to_atom(Reason))
                  end);
        {<<"link_unlink">>, Pid, Name, Node} ->
            %% links, unlinks, then dies: Pid is not told
            spawn(fun() ->
                          link(Pid),
                          unlink(Pid),
                          to(Name, Node) ! {<<"unlinked">>},
                          exit(crash)
                  end);
        {<<"call">>, Server, SNode, Name, Node} ->
            R = (catch gen_server:call({binary_to_atom(Server), binary_to_atom(SNode)}, hello, 2000)),
            to(Name, Node) ! {<<"call">>, case R of {'EXIT', {Why, _}} -> reason(Why); _ -> <<"answered">> end};
        {<<"spawn">>, From} when is_pid(From) ->
            %% a fresh process for test/test_dist.c, which links to and
            %% monitors it from C: its pid as numbers, its node's creation,
            %% and a name to send to it by
            P = spawn(fun() -> process_flag(trap_exit, true), target_loop(From) end),
            [_, Num, Serial] = [list_to_integer(X) || X <- string:lexemes(pid_to_list(P), "<.>")],
            Name = list_to_atom("target" ++ integer_to_list(Num)),
            register(Name, P),
            From ! {<<"spawned">>, Num, Serial, erlang:system_info(creation), atom_to_binary(Name)};
        {<<"halt">>} ->
            erlang:halt()
    end,
    loop().

%% Traps exits and says what it gets; dies when told.
target_loop(From) ->
    receive
        {<<"die">>, Reason} -> exit(binary_to_atom(Reason));
        {<<"info">>} ->
            {links, L} = process_info(self(), links),
            {monitored_by, M} = process_info(self(), monitored_by),
            From ! {<<"info">>, length(L), length(M)};
        {'EXIT', _, R} -> From ! {<<"got_exit">>, reason(R)}
    end,
    target_loop(From).

target({Name, Node}) when is_binary(Name) -> {binary_to_atom(Name), binary_to_atom(Node)};
target(Pid) -> Pid.

%% atoms do not travel to heirloom here: their names do
reason(R) when is_atom(R) -> atom_to_binary(R);
reason(R) -> R.

%% What Erlang sends: the first ones map, the last ones are refused.
%% Lists beside tuples: a list, a string, the empty list, nested both ways,
%% and a map with a list key and a tuple key alike.
lists_sample() ->
    {[1, [2], "ab"], "", [], {[1], {}}, [{[]}, #{[1] => <<"list">>, {1} => <<"tuple">>}]}.

samples() ->
    [{1, [1, 2, 3]}, {2, "abc"}, {3, []}, {4, #{<<"a">> => 1, 2 => <<"b">>}},
     {5, 1.5}, {6, {true, false, nil}}, {7, {-5, 1 bsl 62, <<0, 255>>}},
     {8, 1 bsl 70}, {9, foo}, {10, self()}, {11, make_ref()}, {12, #{1 => <<"a">>, 1.0 => <<"b">>}}].
