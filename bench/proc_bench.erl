%% proc_bench.erl — the Erlang/OTP side of `make bench`'s process
%% workloads: times one workload of bench/proc_bench.lua's, with the same
%% shape, and prints one line, `erlang <workload> <unit> <figure>`.
%%
%% Run compiled (erlc -o build bench/proc_bench.erl), on two schedulers:
%%   erl -noshell +S 2 -pa build -run proc_bench main Workload [Scale]
%% Scale (default 1) multiplies every count. As on the heirloom side, the
%% timed processes report {ready, Pid}, wait for go, and the main process
%% times from the go to the last report.
-module(proc_bench).
-export([main/1]).
-export([noop/0, idle/0, pong/0, ping/3, spawner/4, producer/3, consumer/2]).

-define(RUNS, 3).              % timed runs; the best is kept
-define(WARMUP_SHARE, 10).     % the warm-up run does counts / 10
-define(ROUND_TRIPS, 100000).
-define(SPAWNS, 20000).
-define(MESSAGES, 1000000).
-define(PRODUCERS, 8).
-define(IDLE, 10000).

%% Halts in every case (under -noshell a crash would leave the VM running).
main(Args) ->
    {Pid, Ref} = spawn_monitor(fun() -> run_args(Args) end),
    receive
        {'DOWN', Ref, process, Pid, normal} ->
            halt(0);
        {'DOWN', Ref, process, Pid, Reason} ->
            io:format(standard_error, "proc_bench: ~p~n", [Reason]),
            halt(1)
    end.

run_args([Workload]) ->
    run_args([Workload, "1"]);
run_args([Workload, Scale]) ->
    S = case string:to_float(Scale) of
            {error, _} -> list_to_integer(Scale);
            {F, _} -> F
        end,
    {Unit, Figure} = workload(list_to_atom(Workload), S),
    io:format("erlang ~s ~s ~.3f~n", [Workload, Unit, float(Figure)]).

count(Base, Scale) -> max(1, trunc(Base * Scale)).

%% ---- the process bodies (those of bench/support/proc_bench_procs.lua) ----

ready(Host) ->
    Host ! {ready, self()},
    receive go -> ok end.

noop() -> ok.

idle() ->
    receive _ -> ok end.

pong() ->
    receive
        stop -> ok;
        From -> From ! pong, pong()
    end.

ping(Host, Peer, N) ->
    ready(Host),
    ping_loop(Peer, self(), N),
    Host ! done.

ping_loop(_Peer, _Me, 0) -> ok;
ping_loop(Peer, Me, N) ->
    Peer ! Me,
    receive _ -> ok end,
    ping_loop(Peer, Me, N - 1).

spawner(Host, N, Mode, How) ->
    ready(Host),
    case Mode of
        wait -> spawn_wait(N, How);
        all -> spawn_all(N, How), collect(N)
    end,
    Host ! done.

child(module) -> spawn_monitor(?MODULE, noop, []);
child(fn) -> spawn_monitor(fun() -> ok end).

spawn_wait(0, _How) -> ok;
spawn_wait(N, How) ->
    child(How),
    receive {'DOWN', _, _, _, _} -> ok end,
    spawn_wait(N - 1, How).

spawn_all(0, _How) -> ok;
spawn_all(N, How) ->
    child(How),
    spawn_all(N - 1, How).

collect(0) -> ok;
collect(N) ->
    receive {'DOWN', _, _, _, _} -> ok end,
    collect(N - 1).

producer(Host, Consumer, N) ->
    ready(Host),
    produce(Consumer, 1, N),
    Consumer ! done.

produce(_Consumer, I, N) when I > N -> ok;
produce(Consumer, I, N) ->
    Consumer ! I,
    produce(Consumer, I + 1, N).

consumer(Host, Producers) ->
    consume(Host, Producers, 0, 0).

consume(Host, Producers, Count, Done) ->
    receive
        done when Done + 1 =:= Producers -> Host ! Count;
        done -> consume(Host, Producers, Count, Done + 1);
        _ -> consume(Host, Producers, Count + 1, Done)
    end.

%% ---- timing ----

await_ready(0) -> ok;
await_ready(N) ->
    receive {ready, _} -> ok end,
    await_ready(N - 1).

%% Says go to Pids, waits for Replies messages: the seconds between the go
%% and the last reply, and that reply.
timed(Pids, Replies) ->
    T0 = erlang:monotonic_time(nanosecond),
    [P ! go || P <- Pids],
    Last = last_reply(Replies, none),
    {(erlang:monotonic_time(nanosecond) - T0) / 1.0e9, Last}.

last_reply(0, Last) -> Last;
last_reply(N, _) -> receive M -> last_reply(N - 1, M) end.

best_of(Run, N) ->
    _ = Run(max(1, N div ?WARMUP_SHARE)),
    lists:min([begin erlang:garbage_collect(), Run(N) end || _ <- lists:seq(1, ?RUNS)]).

%% ---- the workloads: each returns its unit and figure ----

workload(pingpong, Scale) ->
    Pong = spawn(?MODULE, pong, []),
    Run = fun(N) ->
                  Ping = spawn(?MODULE, ping, [self(), Pong, N]),
                  await_ready(1),
                  {Secs, done} = timed([Ping], 1),
                  Secs / N * 1.0e6
          end,
    Us = best_of(Run, count(?ROUND_TRIPS, Scale)),
    Pong ! stop,
    {us, Us};
workload(spawn_wait, Scale) -> spawn_workload(wait, module, Scale);
workload(spawn_wait_fn, Scale) -> spawn_workload(wait, fn, Scale);
workload(spawn_all, Scale) -> spawn_workload(all, module, Scale);
workload(send_1to1, Scale) -> send_workload(1, Scale);
workload(send_8to1, Scale) -> send_workload(?PRODUCERS, Scale);
workload(idle_info, Scale) -> {bytes, element(1, idle_memory(count(?IDLE, Scale)))};
workload(idle_node, Scale) -> {bytes, element(2, idle_memory(count(?IDLE, Scale)))};
workload(idle_rss, Scale) -> {bytes, element(3, idle_memory(count(?IDLE, Scale)))}.

spawn_workload(Mode, How, Scale) ->
    Run = fun(N) ->
                  Spawner = spawn(?MODULE, spawner, [self(), N, Mode, How]),
                  await_ready(1),
                  {Secs, done} = timed([Spawner], 1),
                  Secs / N * 1.0e6
          end,
    {us, best_of(Run, count(?SPAWNS, Scale))}.

send_workload(Producers, Scale) ->
    Run = fun(N) ->
                  Per = N div Producers,
                  Consumer = spawn(?MODULE, consumer, [self(), Producers]),
                  Pids = [spawn(?MODULE, producer, [self(), Consumer, Per])
                          || _ <- lists:seq(1, Producers)],
                  await_ready(Producers),
                  {Secs, Got} = timed(Pids, 1),
                  Got = Per * Producers,
                  Secs / Got
          end,
    {msgs_per_s, 1 / best_of(Run, count(?MESSAGES, Scale))}.

%% ---- memory of idle processes ----

page_size() ->
    case os:getenv("BENCH_PAGE_SIZE") of
        false -> 4096;
        S -> list_to_integer(S)
    end.

rss_bytes() ->
    {ok, Statm} = file:read_file("/proc/self/statm"),
    [_, Resident | _] = binary:split(Statm, <<" ">>, [global]),
    binary_to_integer(Resident) * page_size().

%% Spawns N processes that wait in receive, once, in a fresh VM. Returns
%% per process: the average process_info(P, memory), the growth of
%% erlang:memory(processes) and the growth of the RSS.
idle_memory(N) ->
    erlang:garbage_collect(),
    Procs0 = erlang:memory(processes),
    Rss0 = rss_bytes(),
    Pids = [spawn(?MODULE, idle, []) || _ <- lists:seq(1, N)],
    Info = lists:sum([waiting_memory(P) || P <- Pids]),
    Procs1 = erlang:memory(processes),
    Rss1 = rss_bytes(),
    [exit(P, shutdown) || P <- Pids],
    {Info / N, (Procs1 - Procs0) / N, (Rss1 - Rss0) / N}.

waiting_memory(P) ->
    case erlang:process_info(P, [status, memory]) of
        [{status, waiting}, {memory, M}] -> M;
        _ -> timer:sleep(1), waiting_memory(P)
    end.
