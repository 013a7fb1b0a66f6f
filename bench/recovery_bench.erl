%% recovery_bench.erl — the Erlang/OTP side of `make bench WHAT=recovery`:
%% how long a supervised gen_server that owns an ETS table takes to come
%% back, with its data, after it is killed. The same pattern as
%% bench/recovery_bench.lua. Prints one line per table size:
%%   erlang recovery <objects> <median_us> <p90_us> <runs>
%%
%% Run compiled (erlc -o build bench/recovery_bench.erl), on two schedulers:
%%   erl -noshell +S 2 -pa build -run recovery_bench main Runs Objects...
%%
%% Once per size, a one_for_one supervisor with two children: the manager
%% (manager/0, registered as recovery_mgr_<objects>, the table's heir) and
%% the server (this module's gen_server callbacks, registered as
%% recovery_server_<objects>), which creates and fills the table the first
%% time and otherwise gets it back from the manager in its init. An ETS heir
%% is a pid and lasts one generation, so the server sets the manager as heir
%% again each time. The sizes take turns, kill after kill.
-module(recovery_bench).
-behaviour(gen_server).   % and a supervisor's callback: init({sup, Objects})
-export([main/1]).
-export([start_manager/1, manager/0]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(WARMUP, 5).            % kills before the timed ones, not counted
-define(GAP_MS, 5).            % between two kills: a recovery is a rare event
-define(FILL_CHUNK, 10000).

%% Halts in every case (under -noshell a crash would leave the VM running).
main(Args) ->
    %% as heirloom's logger = "silent": no supervisor reports
    logger:set_primary_config(level, none),
    {Pid, Ref} = spawn_monitor(fun() -> run_args(Args) end),
    receive
        {'DOWN', Ref, process, Pid, normal} ->
            halt(0);
        {'DOWN', Ref, process, Pid, Reason} ->
            io:format(standard_error, "recovery_bench: ~p~n", [Reason]),
            halt(1)
    end.

run_args([Runs0 | Sizes0]) when Sizes0 =/= [] ->
    Runs = list_to_integer(Runs0),
    Sizes = [list_to_integer(S) || S <- Sizes0],
    Sups = [begin {ok, Sup} = supervisor:start_link(?MODULE, {sup, N}), Sup end || N <- Sizes],
    put(seed, 20240601),
    [recover_once(N) || _ <- lists:seq(1, ?WARMUP), N <- Sizes],
    Rounds = [[recover_once(N) || N <- Sizes] || _ <- lists:seq(1, Runs)],
    [begin unlink(Sup), exit(Sup, shutdown) end || Sup <- Sups],
    lists:foreach(
      fun({I, N}) ->
              Us = lists:sort([lists:nth(I, Round) || Round <- Rounds]),
              io:format("erlang recovery ~b ~.1f ~.1f ~b~n",
                        [N, percentile(Us, 0.5), percentile(Us, 0.9), Runs])
      end, lists:zip(lists:seq(1, length(Sizes)), Sizes)).

%% The p-th percentile by nearest rank, as in recovery_bench.lua.
percentile(Sorted, P) ->
    lists:nth(max(1, ceil(P * length(Sorted))), Sorted).

%% Park-Miller, as in recovery_bench.lua: the key of each run.
next_key(Objects) ->
    Seed = get(seed) * 48271 rem 2147483647,
    put(seed, Seed),
    Seed rem Objects + 1.

server_name(Objects) -> list_to_atom("recovery_server_" ++ integer_to_list(Objects)).
manager_name(Objects) -> list_to_atom("recovery_mgr_" ++ integer_to_list(Objects)).

%% One kill and recovery; the microseconds from the kill to the reply.
recover_once(Objects) ->
    Name = server_name(Objects),
    Key = next_key(Objects),
    Old = whereis(Name),
    Ref = monitor(process, Old),
    T0 = erlang:monotonic_time(nanosecond),
    exit(Old, kill),
    receive {'DOWN', Ref, process, Old, _} -> ok end,
    Pid = await_name(Name),
    Got = gen_server:call(Pid, {get, Key}),
    T1 = erlang:monotonic_time(nanosecond),
    true = Pid =/= Old,
    Expected = [{Key, Key * 7}],
    Expected = Got,
    Objects = gen_server:call(Pid, size),
    timer:sleep(?GAP_MS),
    (T1 - T0) / 1000.

%% The name is free once the DOWN has come; loop until the restarted
%% server holds it.
await_name(Name) ->
    case whereis(Name) of
        undefined -> erlang:yield(), await_name(Name);
        Pid -> Pid
    end.

%% ---- the supervisor ----

init({sup, Objects}) ->
    Manager = manager_name(Objects),
    {ok, {#{strategy => one_for_one, intensity => 1000000, period => 5},
          [#{id => manager, start => {?MODULE, start_manager, [Manager]}},
           #{id => server, shutdown => brutal_kill,
             start => {gen_server, start_link,
                       [{local, server_name(Objects)}, ?MODULE, {Objects, Manager}, []]}}]}};

%% ---- the server ----

init({Objects, Manager}) ->
    Manager ! {want, self()},
    Tab = receive
              {'ETS-TRANSFER', T, _From, _Data} -> T;
              create ->
                  T = ets:new(recovery, [set, protected]),
                  fill(T, 1, Objects),
                  T
          end,
    ets:setopts(Tab, {heir, whereis(Manager), none}),
    {ok, Tab}.

handle_call({get, Key}, _From, Tab) -> {reply, ets:lookup(Tab, Key), Tab};
handle_call(size, _From, Tab) -> {reply, ets:info(Tab, size), Tab}.

handle_cast(_Msg, Tab) -> {noreply, Tab}.

fill(_T, First, N) when First > N -> ok;
fill(T, First, N) ->
    Last = min(N, First + ?FILL_CHUNK - 1),
    ets:insert(T, [{K, K * 7} || K <- lists:seq(First, Last)]),
    fill(T, Last + 1, N).

%% ---- the manager: heirloom's bench/support/recovery_manager.lua ----

start_manager(Name) ->
    Pid = spawn_link(?MODULE, manager, []),
    register(Name, Pid),
    {ok, Pid}.

manager() -> manager(none, false, none).

%% Tab: the table while the manager holds it; Created: a server has been
%% told to create it; Waiting: a server that asked while it was still out.
manager(Tab, Created, Waiting) ->
    receive
        {want, Pid} when Tab =/= none ->
            ets:give_away(Tab, Pid, none),
            manager(none, Created, Waiting);
        {want, Pid} when not Created ->
            Pid ! create,
            manager(Tab, true, Waiting);
        {want, Pid} ->
            manager(Tab, Created, Pid);
        {'ETS-TRANSFER', T, _From, _Data} when Waiting =/= none ->
            ets:give_away(T, Waiting, none),
            manager(none, Created, none);
        {'ETS-TRANSFER', T, _From, _Data} ->
            manager(T, Created, Waiting)
    end.
