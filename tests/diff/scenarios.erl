%% tests/diff/scenarios.erl - Erlang's side of the differential tests:
%% each scenario prints a normalised trace (reasons and events, no pids),
%% which tests/diff/scenarios.c must print the same way. Run in a spawned
%% process (the -eval process itself traps exits).
-module(scenarios).
-export([main/1]).

out(Fmt, Args) -> io:format(Fmt ++ "~n", Args).

wait_down(Ref) -> receive {'DOWN', Ref, process, _, R} -> R end.

dead() -> {P, R} = spawn_monitor(fun() -> ok end), wait_down(R), P.

run(link_dead_trapping) ->
    process_flag(trap_exit, true), P = dead(), link(P),
    receive {'EXIT', P, R} -> out("EXIT ~p", [R]) end;
run(link_dead_not_trapping) ->
    P = dead(), R = (catch link(P)),
    out("error ~p", [case R of {'EXIT', {E, _}} -> E; _ -> R end]);
run(exit_normal_ignored) ->
    P = spawn(fun() -> receive _ -> ok end end), Ref = monitor(process, P),
    exit(P, normal), P ! go, out("DOWN ~p", [wait_down(Ref)]);
run(kill_trapping) ->
    S = self(), P = spawn(fun() -> process_flag(trap_exit, true), S ! ready, receive after infinity -> ok end end),
    receive ready -> ok end, Ref = monitor(process, P), exit(P, kill), out("DOWN ~p", [wait_down(Ref)]);
run(exit_kill_via_link) ->
    process_flag(trap_exit, true), P = spawn_link(fun() -> exit(kill) end),
    receive {'EXIT', P, R} -> out("EXIT ~p", [R]) end;
run(linked_boom) ->
    {A, Ref} = spawn_monitor(fun() -> spawn_link(fun() -> exit(boom) end), receive _ -> ok end end),
    _ = A, out("DOWN ~p", [wait_down(Ref)]);
run(linked_normal_trapping) ->
    process_flag(trap_exit, true), P = spawn_link(fun() -> ok end),
    receive {'EXIT', P, R} -> out("EXIT ~p", [R]) end;
run(order_msg_exit_msg) ->
    S = self(),
    V = spawn(fun() -> process_flag(trap_exit, true), S ! ready,
                       L = [receive M -> M end || _ <- [1, 2, 3, 4]], S ! {got, L} end),
    receive ready -> ok end,
    spawn(fun() -> V ! m1, V ! m2, exit(V, reason), V ! m3 end),
    receive {got, L} -> out("~s", [string:join([case M of {'EXIT', _, R} -> "EXIT " ++ atom_to_list(R);
                                                          _ -> atom_to_list(M) end || M <- L], " ")]) end;
run(monitor_dead) ->
    P = dead(), Ref = monitor(process, P), out("DOWN ~p", [wait_down(Ref)]);
run(two_monitors) ->
    P = spawn(fun() -> receive _ -> ok end end),
    R1 = monitor(process, P), R2 = monitor(process, P), P ! go,
    out("DOWN ~p ~p", [wait_down(R1), wait_down(R2)]);
run(demonitor_flush) ->
    P = dead(), R = monitor(process, P), receive after 10 -> ok end,
    A = demonitor(R, [flush, info]),
    out("info ~p left ~p", [A, element(2, process_info(self(), message_queue_len))]);
run(unlink_after_exit) ->
    process_flag(trap_exit, true),
    P = spawn_link(fun() -> receive go -> exit(boom) end end), Ref = monitor(process, P),
    P ! go, wait_down(Ref), unlink(P),
    receive {'EXIT', P, R} -> out("EXIT ~p", [R]) after 0 -> out("none", []) end;
run(register_taken) ->
    P = spawn(fun() -> receive _ -> ok end end), Q = spawn(fun() -> receive _ -> ok end end),
    true = register(foo, P), R = (catch register(foo, Q)),
    out("~p", [case R of {'EXIT', {E, _}} -> E; _ -> R end]), P ! go, Q ! go;
run(cancel_after_fire) ->
    R = erlang:send_after(10, self(), y), receive after 50 -> ok end,
    C = erlang:cancel_timer(R), receive y -> out("cancel ~p message y", [C]) after 0 -> out("cancel ~p none", [C]) end;
run(cancel_async) ->
    R = erlang:send_after(1000, self(), y),
    ok = erlang:cancel_timer(R, [{async, true}, {info, true}]),
    receive {cancel_timer, R, L} -> out("left ~p", [is_integer(L) andalso L > 500 andalso L =< 1000]) end,
    R2 = erlang:send_after(10, self(), z), receive z -> ok end,
    ok = erlang:cancel_timer(R2, [{async, true}, {info, true}]),
    receive {cancel_timer, R2, F} -> out("then ~p", [F]) end,
    receive y -> out("message y", []) after 0 -> out("no y", []) end.

main([Name]) ->
    S = self(),
    {_, Ref} = spawn_monitor(fun() -> run(list_to_atom(Name)), S ! done end),
    receive done -> ok; {'DOWN', Ref, _, _, R} -> out("scenario died ~p", [R]) end,
    init:stop().
