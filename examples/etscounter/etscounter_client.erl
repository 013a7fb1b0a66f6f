%% etscounter_client — the etscounter client on an Erlang node, against the
%% counter server running on a heirloom node (docs/distribution.md). The
%% heirloom server is a gen_server to Erlang: its requests are the client's
%% strings, which Erlang sends as binaries.
%%
%%   $ erl -sname client -setcookie secret -pa examples/etscounter
%%   1> etscounter_client:count('app@localhost').
%%   1
%%   2> etscounter_client:check('app@localhost').
%%   {{<<"count">>,1}}
-module(etscounter_client).
-export([count/1, check/1, die/1, count_when_back/1]).

-define(SERVER(Node), {etscounter_srv, Node}).

count(Node) -> gen_server:call(?SERVER(Node), <<"count">>).
check(Node) -> gen_server:call(?SERVER(Node), <<"check">>).
die(Node) -> gen_server:cast(?SERVER(Node), <<"die">>).

%% count/1 once the supervisor has restarted the server after a die/1: a
%% call to a name nobody holds yet fails with noproc, one that reaches the
%% server as it dies with its reason (killed); each try is short.
count_when_back(Node) -> count_when_back(Node, 50).

count_when_back(Node, 0) -> count(Node);
count_when_back(Node, Tries) ->
    try gen_server:call(?SERVER(Node), <<"count">>, 200)
    catch exit:{Why, _} when Why =:= timeout; Why =:= noproc; Why =:= killed ->
        timer:sleep(20),
        count_when_back(Node, Tries - 1)
    end.
