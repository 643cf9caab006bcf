%% swarm_peer - the Erlang/OTP peer of the SwarmRT benchmark suite.
%%
%% Implements every workload of bench/WORKLOADS.md with plain spawn, send
%% and receive. Run it as
%%
%%   erl -noshell +S N:N +P 4000000 \
%%       -pa build/bench/erlang -run swarm_peer main <workload> <schedulers> <size>
%%
%% The <schedulers> argument is only echoed: the scheduler count is set by
%% +S on the command line (bench/run.py passes both). +P raises the process
%% limit for the workloads with a million processes. Nothing else is tuned:
%% the VM runs with its defaults (scheduler busy-waiting included), as users
%% run it.
%%
%% Output: one "result ..." line on stdout (cpu_ns=-1: the runner measures
%% the VM's CPU time externally), or one "error ..." line and exit status 1.
-module(swarm_peer).
-behaviour(gen_server).
-export([main/1]).
%% gen_server callbacks (the gs_call workload's server).
-export([init/1, handle_call/3, handle_cast/2, sup_worker/0, hibernated_wake/1]).

-define(MASK64, 16#FFFFFFFFFFFFFFFF).
-define(LCG_A, 6364136223846793005).
-define(LCG_C, 1442695040888963407).
-define(RING_SIZE, 503).
-define(SPAWN_BATCH, 10000).
-define(BURST_ROUNDS, 3).
-define(BURST_DEPTH, 16).
-define(BURST_PARK_MS, 1000).

%% Entry point for -run: arguments arrive as strings.
main([WorkloadS, SchedS, SizeS]) ->
    Result = try
                 Workload = list_to_atom(WorkloadS),
                 Size = list_to_atom(SizeS),
                 (Size =:= quick orelse Size =:= full orelse Size =:= huge)
                     orelse throw({bad_size, SizeS}),
                 _ = list_to_integer(SchedS),
                 run(Workload, Size)
             catch
                 throw:Why -> {error, Why};
                 Class:Why:Stack -> {error, {Class, Why, Stack}}
             end,
    case Result of
        {ok, Checksum, WallNs, Ops, Extra} ->
            io:format("result workload=~s runtime=erlang schedulers=~s size=~s "
                      "checksum=~b wall_ns=~b cpu_ns=-1 ops=~b~s~n",
                      [WorkloadS, SchedS, SizeS, Checksum, WallNs, Ops,
                       [io_lib:format(" ~s=~b", [K, V]) || {K, V} <- Extra]]),
            erlang:halt(0);
        {error, Reason} ->
            io:format("error workload=~s runtime=erlang ~0p~n", [WorkloadS, Reason]),
            erlang:halt(1)
    end;
main(Args) ->
    io:format("error usage: swarm_peer main <workload> <schedulers> <quick|full|huge> (got ~0p)~n",
              [Args]),
    erlang:halt(2).

%% Run one workload in a fresh process (the -run caller is the init
%% machinery's process; a clean mailbox and heap keep the measurement fair).
run(Workload, Size) ->
    case params(Workload, Size) of
        undefined -> throw({unknown_workload, Workload});
        Params ->
            Parent = self(),
            {Pid, Ref} = spawn_monitor(fun() -> Parent ! {self(), timed(Workload, Params)} end),
            receive
                {Pid, R} -> erlang:demonitor(Ref, [flush]), R;
                {'DOWN', Ref, process, Pid, Why} -> {error, {crashed, Why}}
            end
    end.

%% Workload parameters, exactly as in WORKLOADS.md.
params(pingpong, quick)    -> #{n => 100000};
params(pingpong, full)     -> #{n => 1000000};
params(yield, quick)       -> #{n => 200000};
params(yield, full)        -> #{n => 2000000};
params(counting, quick)    -> #{n => 1000000};
params(counting, full)     -> #{n => 10000000};
params(mailbox, quick)     -> #{s => 10, m => 100000};
params(mailbox, full)      -> #{s => 100, m => 100000};
params(ring, quick)        -> #{h => 1000000};
params(ring, full)         -> #{h => 10000000};
params(spawn, quick)       -> #{n => 100000};
params(spawn, full)        -> #{n => 1000000};
params(spawn_batched, quick) -> #{n => 100000};
params(spawn_batched, full)  -> #{n => 1000000};
params(skynet, quick)      -> #{leaves => 100000};
params(skynet, full)       -> #{leaves => 1000000};
params(big, quick)         -> #{w => 200, n => 1000};
params(big, full)          -> #{w => 1000, n => 5000};
params(fib, quick)         -> #{n => 20};
params(fib, full)          -> #{n => 27};
params(primes, quick)      -> #{l => 2000000};
params(primes, full)       -> #{l => 20000000};
params(sleepers, quick)    -> #{p => 1000, k => 20};
params(sleepers, full)     -> #{p => 10000, k => 50};
params(timer_churn, quick) -> #{n => 100000};
params(timer_churn, full)  -> #{n => 1000000};
params(link_chain, quick)  -> #{n => 100000};
params(link_chain, full)   -> #{n => 1000000};
params(sup_restart, quick) -> #{n => 10000};
params(sup_restart, full)  -> #{n => 100000};
params(gs_call, quick)     -> #{n => 100000, q => 10000};
params(gs_call, full)      -> #{n => 1000000, q => 10000};
params(parked, quick)      -> #{p => 100000};
params(parked, full)       -> #{p => 1000000};
params(hibernated, quick)  -> #{p => 100000};
params(hibernated, full)   -> #{p => 1000000};
params(hibernated, huge)   -> #{p => 10000000};
params(bursts, quick)      -> #{p => 10000};
params(bursts, full)       -> #{p => 100000};
params(_, _)               -> undefined.

%% Time a workload: it returns {Checksum, Ops, ExtraKeys}.
timed(Workload, Params) ->
    T0 = erlang:monotonic_time(nanosecond),
    {Checksum, Ops, Extra} = workload(Workload, Params),
    T1 = erlang:monotonic_time(nanosecond),
    {ok, Checksum, T1 - T0, Ops, Extra}.

%% ---------------------------------------------------------------- pingpong
workload(pingpong, #{n := N}) ->
    Pong = spawn(fun pong_loop/0),
    Count = ping_loop(Pong, 1, N, 0),
    Pong ! stop,
    {Count, N, []};

%% ------------------------------------------------------------------- yield
workload(yield, #{n := N}) ->
    Self = self(),
    [spawn(fun() -> Self ! {yielded, yield_loop(N, 0)} end) || _ <- [1, 2]],
    Sum = lists:sum([receive {yielded, C} -> C end || _ <- [1, 2]]),
    {Sum, 2 * N, []};

%% ---------------------------------------------------------------- counting
workload(counting, #{n := N}) ->
    Counter = spawn(fun() -> counter_loop(0) end),
    send_range(Counter, 1, N),
    Counter ! {total, self()},
    receive {sum, Sum} -> {Sum, N, []} end;

%% ----------------------------------------------------------------- mailbox
workload(mailbox, #{s := S, m := M}) ->
    Self = self(),
    [spawn(fun() -> send_range(Self, 1, M) end) || _ <- lists:seq(1, S)],
    {sum_n(S * M, 0), S * M, []};

%% -------------------------------------------------------------------- ring
workload(ring, #{h := H}) ->
    Self = self(),
    Ring = list_to_tuple([spawn(fun() -> ring_init(Self, I) end)
                          || I <- lists:seq(0, ?RING_SIZE - 1)]),
    [element(I + 1, Ring) ! {next, element((I + 1) rem ?RING_SIZE + 1, Ring)}
     || I <- lists:seq(0, ?RING_SIZE - 1)],
    element(1, Ring) ! {start, H},
    Winner = receive {ring_done, Index} -> Index end,
    [P ! stop || P <- tuple_to_list(Ring)],
    {Winner, H, []};

%% ------------------------------------------------------------------- spawn
%% The standard form: all N children spawned at once; each sends its index
%% to a counter process, which replies with the total once it has N.
workload(spawn, #{n := N}) ->
    Self = self(),
    Counter = spawn(fun() -> spawn_counter(Self, N, 0) end),
    spawn_children(Counter, 0, N),
    Sum = receive {spawn_total, S} -> S end,
    {Sum, N, []};

%% ----------------------------------------------------------- spawn_batched
workload(spawn_batched, #{n := N}) ->
    {spawn_batches(0, N, 0), N, []};

%% ------------------------------------------------------------------ skynet
workload(skynet, #{leaves := Leaves}) ->
    Self = self(),
    spawn(fun() -> skynet(Self, 0, Leaves) end),
    Sum = receive {skynet, S} -> S end,
    {Sum, skynet_procs(Leaves), []};

%% --------------------------------------------------------------------- big
workload(big, #{w := W, n := N}) ->
    Self = self(),
    Procs = list_to_tuple([spawn(fun() -> big_init(Self, I, W, N) end)
                           || I <- lists:seq(0, W - 1)]),
    [P ! {go, Procs} || P <- tuple_to_list(Procs)],
    Pongs = lists:sum([receive {big_done, C} -> C end || _ <- lists:seq(1, W)]),
    [P ! stop || P <- tuple_to_list(Procs)],
    {Pongs, 2 * W * N, []};

%% --------------------------------------------------------------------- fib
workload(fib, #{n := N}) ->
    Self = self(),
    spawn(fun() -> fib(Self, N) end),
    F = receive {fib, V} -> V end,
    %% Calls in the fib tree, every one a process: 2*fib(n+1) - 1.
    {F, 2 * fib_seq(N + 1) - 1, []};

%% ------------------------------------------------------------------ primes
workload(primes, #{l := L}) ->
    Self = self(),
    Chunks = 64,
    [spawn(fun() ->
                   Lo = 2 + K * (L - 2) div Chunks,
                   Hi = 2 + (K + 1) * (L - 2) div Chunks,
                   Self ! {primes, count_primes(Lo, Hi, 0)}
           end) || K <- lists:seq(0, Chunks - 1)],
    Count = lists:sum([receive {primes, C} -> C end || _ <- lists:seq(1, Chunks)]),
    {Count, L, []};

%% ---------------------------------------------------------------- sleepers
workload(sleepers, #{p := P, k := K}) ->
    Self = self(),
    [spawn(fun() -> Self ! {slept, sleep_loop(K, 0)} end) || _ <- lists:seq(1, P)],
    Total = lists:sum([receive {slept, C} -> C end || _ <- lists:seq(1, P)]),
    {Total, P * K, []};

%% ------------------------------------------------------------- timer_churn
workload(timer_churn, #{n := N}) ->
    Pong = spawn(fun timed_pong_loop/0),
    Count = timed_ping_loop(Pong, 1, N, 0),
    Pong ! stop,
    {Count, N, []};

%% ------------------------------------------------------------------ parked
workload(link_chain, #{n := N}) ->
    Root = self(),
    {_First, Ref} = spawn_monitor(fun() -> chain_link(Root, N - 1) end),
    receive {chain_built, Last} -> Last ! go end,
    receive {'DOWN', Ref, process, _, shutdown} -> {N, N, []} end;

workload(sup_restart, #{n := N}) ->
    %% No SUPERVISOR REPORT per restart (SwarmRT prints none for a kill):
    %% printing them would be most of the time.
    logger:set_primary_config(level, critical),
    {ok, Sup} = supervisor:start_link(?MODULE, {sup, N}),
    W0 = sup_child(Sup),
    Restarts = sup_kill_loop(Sup, W0, N, 0),
    unlink(Sup),
    exit(Sup, shutdown),
    {Restarts, N, []};

workload(gs_call, #{n := N, q := Q}) ->
    {ok, Srv} = gen_server:start(?MODULE, [], []),
    Self = self(),
    [Self ! {junk, I} || I <- lists:seq(1, Q)],   % a call must not pay for these
    Last = gs_calls(Srv, 1, N, 0),
    gen_server:stop(Srv),
    [receive {junk, _} -> ok end || _ <- lists:seq(1, Q)],
    {Last, N, []};

workload(parked, Params) ->
    park_all(Params, fun parked/1);

workload(hibernated, Params) ->
    park_all(Params, fun hibernating/1);

%% ------------------------------------------------------------------ bursts
%% P processes each run ?BURST_ROUNDS rounds of burst/3 on a {go, Round}
%% message and send the result to main; after each round main reads
%% erlang:memory(total) at once (BurstMem) and after a one-second park
%% (ParkMem). Then every process gets stop and acknowledges it.
workload(bursts, #{p := P}) ->
    Self = self(),
    Before = erlang:memory(total),
    Procs = [spawn(fun() -> burst_proc(Self, I, 0) end) || I <- lists:seq(0, P - 1)],
    {Sum, Mems} = burst_rounds(Procs, P, 0, 0, []),
    [Pid ! stop || Pid <- Procs],
    ok = wait_n(burst_ack, P),
    [{BurstMem, ParkMem} | _] = Mems,   % the last round's
    {Sum, P * ?BURST_ROUNDS, [{burst_bytes_per_proc, (BurstMem - Before) div P},
                               {parked_bytes_per_proc, (ParkMem - Before) div P}]}.

park_all(#{p := P}, Child) ->
    Self = self(),
    Before = erlang:memory(total),
    Procs = [spawn(fun() -> Child(Self) end) || _ <- lists:seq(1, P)],
    ok = wait_n(ready, P),
    Parked = erlang:memory(total),
    [Pid ! stop || Pid <- Procs],
    ok = wait_n(gone, P),
    {P, P, [{bytes_per_proc, (Parked - Before) div P}]}.

%% ================================================================ helpers

pong_loop() ->
    receive
        {ping, From, I} -> From ! {pong, I}, pong_loop();
        stop -> ok
    end.

ping_loop(_Pong, I, N, Count) when I > N -> Count;
ping_loop(Pong, I, N, Count) ->
    Pong ! {ping, self(), I},
    receive
        {pong, I} -> ping_loop(Pong, I + 1, N, Count + 1)
    end.

timed_pong_loop() ->
    receive
        {ping, From, I} -> From ! {pong, I}, timed_pong_loop();
        stop -> ok
    after 1000 ->
            exit(pong_timeout)
    end.

timed_ping_loop(_Pong, I, N, Count) when I > N -> Count;
timed_ping_loop(Pong, I, N, Count) ->
    Pong ! {ping, self(), I},
    receive
        {pong, I} -> timed_ping_loop(Pong, I + 1, N, Count + 1)
    after 1000 ->
            exit(ping_timeout)
    end.

yield_loop(0, Count) -> Count;
yield_loop(N, Count) ->
    erlang:yield(),
    yield_loop(N - 1, Count + 1).

counter_loop(Sum) ->
    receive
        I when is_integer(I) -> counter_loop(Sum + I);
        {total, From} -> From ! {sum, Sum}
    end.

send_range(_To, I, N) when I > N -> ok;
send_range(To, I, N) ->
    To ! I,
    send_range(To, I + 1, N).

%% Receive N integers and return their sum.
sum_n(0, Sum) -> Sum;
sum_n(N, Sum) ->
    receive
        I when is_integer(I) -> sum_n(N - 1, Sum + I)
    end.

ring_init(Main, Index) ->
    receive {next, Next} -> ring_loop(Main, Index, Next) end.

ring_loop(Main, Index, Next) ->
    receive
        {start, H} -> Next ! {token, H}, ring_loop(Main, Index, Next);
        {token, 0} -> Main ! {ring_done, Index}, ring_loop(Main, Index, Next);
        {token, T} -> Next ! {token, T - 1}, ring_loop(Main, Index, Next);
        stop -> ok
    end.

%% spawn: children I..N-1, each sends {child, I} to Counter and ends.
spawn_children(_Counter, N, N) -> ok;
spawn_children(Counter, I, N) ->
    spawn(fun() -> Counter ! {child, I} end),
    spawn_children(Counter, I + 1, N).

spawn_counter(Parent, 0, Sum) -> Parent ! {spawn_total, Sum};
spawn_counter(Parent, K, Sum) ->
    receive {child, I} -> spawn_counter(Parent, K - 1, Sum + I) end.

%% Spawn children Next..N-1 in batches of at most ?SPAWN_BATCH outstanding.
spawn_batches(Next, N, Sum) when Next >= N -> Sum;
spawn_batches(Next, N, Sum) ->
    Self = self(),
    Last = min(N, Next + ?SPAWN_BATCH),
    [spawn(fun() -> Self ! {child, I} end) || I <- lists:seq(Next, Last - 1)],
    spawn_batches(Last, N, collect_children(Last - Next, Sum)).

collect_children(0, Sum) -> Sum;
collect_children(K, Sum) ->
    receive {child, I} -> collect_children(K - 1, Sum + I) end.

skynet(Parent, Num, 1) ->
    Parent ! {skynet, Num};
skynet(Parent, Num, Size) ->
    Self = self(),
    Sub = Size div 10,
    [spawn(fun() -> skynet(Self, Num + K * Sub, Sub) end) || K <- lists:seq(0, 9)],
    Parent ! {skynet, collect_skynet(10, 0)}.

collect_skynet(0, Sum) -> Sum;
collect_skynet(K, Sum) ->
    receive {skynet, V} -> collect_skynet(K - 1, Sum + V) end.

%% Processes in a skynet tree with Leaves leaves (a power of ten).
skynet_procs(1) -> 1;
skynet_procs(Leaves) -> Leaves + skynet_procs(Leaves div 10).

big_init(Main, I, W, N) ->
    receive {go, Procs} -> big_ping(Main, I, W, N, Procs, I + 1, 0) end.

%% Send the next ping (or report done) and wait for its pong, answering
%% pings from others meanwhile.
big_ping(Main, _I, _W, N, Procs, _X, N) ->
    Main ! {big_done, N},
    big_serve(Procs);
big_ping(Main, I, W, N, Procs, X0, Pongs) ->
    X = (X0 * ?LCG_A + ?LCG_C) band ?MASK64,
    T0 = (X bsr 33) rem W,
    Target = if T0 =:= I -> (I + 1) rem W; true -> T0 end,
    element(Target + 1, Procs) ! {ping, I},
    big_wait(Main, I, W, N, Procs, X, Pongs).

big_wait(Main, I, W, N, Procs, X, Pongs) ->
    receive
        {ping, From} ->
            element(From + 1, Procs) ! pong,
            big_wait(Main, I, W, N, Procs, X, Pongs);
        pong ->
            big_ping(Main, I, W, N, Procs, X, Pongs + 1)
    end.

big_serve(Procs) ->
    receive
        {ping, From} -> element(From + 1, Procs) ! pong, big_serve(Procs);
        stop -> ok
    end.

fib(Parent, N) when N < 2 ->
    Parent ! {fib, N};
fib(Parent, N) ->
    Self = self(),
    spawn(fun() -> fib(Self, N - 1) end),
    spawn(fun() -> fib(Self, N - 2) end),
    A = receive {fib, V1} -> V1 end,
    B = receive {fib, V2} -> V2 end,
    Parent ! {fib, A + B}.

fib_seq(N) -> fib_seq(N, 0, 1).
fib_seq(0, A, _) -> A;
fib_seq(N, A, B) -> fib_seq(N - 1, B, A + B).

count_primes(Lo, Hi, Count) when Lo >= Hi -> Count;
count_primes(Lo, Hi, Count) ->
    case is_prime(Lo) of
        true -> count_primes(Lo + 1, Hi, Count + 1);
        false -> count_primes(Lo + 1, Hi, Count)
    end.

is_prime(N) when N < 2 -> false;
is_prime(2) -> true;
is_prime(N) when N rem 2 =:= 0 -> false;
is_prime(N) -> no_odd_divisor(N, 3).

no_odd_divisor(N, D) when D * D > N -> true;
no_odd_divisor(N, D) when N rem D =:= 0 -> false;
no_odd_divisor(N, D) -> no_odd_divisor(N, D + 2).

sleep_loop(0, Count) -> Count;
sleep_loop(K, Count) ->
    receive after 10 -> ok end,
    sleep_loop(K - 1, Count + 1).

parked(Main) ->
    Main ! ready,
    receive stop -> Main ! gone end.

%% erlang:hibernate/3 discards the call stack and shrinks the heap; the
%% next message calls hibernated_wake(Main).
hibernating(Main) ->
    Main ! ready,
    erlang:hibernate(?MODULE, hibernated_wake, [Main]).

hibernated_wake(Main) ->
    receive stop -> Main ! gone end.

%% bursts: main's rounds; Mems collects {BurstMem, ParkMem}, newest first.
burst_rounds(_Procs, _P, ?BURST_ROUNDS, Sum, Mems) -> {Sum, Mems};
burst_rounds(Procs, P, R, Sum0, Mems) ->
    [Pid ! {go, R} || Pid <- Procs],
    Sum = sum_bursts(P, Sum0),
    BurstMem = erlang:memory(total),
    receive after ?BURST_PARK_MS -> ok end,
    ParkMem = erlang:memory(total),
    burst_rounds(Procs, P, R + 1, Sum, [{BurstMem, ParkMem} | Mems]).

sum_bursts(0, Sum) -> Sum;
sum_bursts(K, Sum) ->
    receive {burst, V} -> sum_bursts(K - 1, Sum + V) end.

%% A bursts process: round R waits for {go, R}, then computes and reports.
burst_proc(Main, _I, ?BURST_ROUNDS) ->
    receive stop -> Main ! burst_ack end;
burst_proc(Main, I, R) ->
    receive {go, R} -> Main ! {burst, burst(I, R, ?BURST_DEPTH)} end,
    burst_proc(Main, I, R + 1).

%% Each level builds a list of 512 bytes on the process heap (1,024 words;
%% an Erlang process's stack and heap share one block) and sums it before
%% it recurses, so only one level's list is live at a time (the stack holds
%% the partial sums). The collections on the way leave a young heap of 2,586
%% and an old heap of 4,185 words (OTP 25: process_info memory 54,944 bytes),
%% which a waiting process keeps: nothing collects it while it waits.
burst(_I, _R, 0) -> 0;
burst(I, R, D) ->
    Sum = lists:sum(burst_buf(I + 7 * R + 13 * D, 511, [])),
    Sum + burst(I, R, D - 1).

%% [(Base + K) band 255 || K <- 0..511], built from the end.
burst_buf(_Base, -1, Buf) -> Buf;
burst_buf(Base, K, Buf) -> burst_buf(Base, K - 1, [(Base + K) band 255 | Buf]).

wait_n(_Msg, 0) -> ok;
wait_n(Msg, K) ->
    receive Msg -> wait_n(Msg, K - 1) end.

%% ----------------------------------------------------- gs_call's server
gs_calls(_, I, N, Last) when I > N -> Last;
gs_calls(Srv, I, N, _) -> gs_calls(Srv, I + 1, N, gen_server:call(Srv, I)).

init([]) -> {ok, 0};
init({sup, N}) ->   % the sup_restart workload's supervisor
    {ok, {#{strategy => one_for_one, intensity => 2 * N, period => 5},
          [#{id => w, start => {?MODULE, sup_worker, []}}]}}.
handle_call(I, _From, Sum) -> {reply, Sum + I, Sum + I}.
handle_cast(_, Sum) -> {noreply, Sum}.

%% ------------------------------------------------------------ link_chain
chain_link(Root, 0) ->
    Root ! {chain_built, self()},
    receive go -> exit(shutdown) end;
chain_link(Root, Left) ->
    spawn_link(fun() -> chain_link(Root, Left - 1) end),
    receive _ -> ok end.

%% ----------------------------------------------------------- sup_restart
sup_worker() -> {ok, spawn_link(fun() -> receive _ -> ok end end)}.

sup_child(Sup) -> [{w, Pid, worker, _}] = supervisor:which_children(Sup), Pid.

sup_kill_loop(_, _, 0, Restarts) -> Restarts;
sup_kill_loop(Sup, W, K, Restarts) ->
    Ref = monitor(process, W),
    exit(W, kill),
    receive {'DOWN', Ref, process, W, _} -> ok end,
    Next = sup_child(Sup),
    sup_kill_loop(Sup, Next, K - 1, Restarts + (case Next of W -> 0; _ -> 1 end)).
