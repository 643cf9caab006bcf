%% swarm_io_peer - the Erlang/OTP peer of the SwarmRT I/O benchmarks
%% (bench/io/README.md). Run it as
%%
%%   erl -noshell +S 1:1 \
%%       -pa build/bench/io/erlang -run swarm_io_peer main http|echo [Port]
%%
%% It listens on 127.0.0.1:Port (default 0: any free port), prints
%% "listening <port>" once it accepts, and serves until killed.
%%
%% Both servers are plain gen_tcp: an acceptor loop, one process per
%% connection (the acceptor hands the socket over with controlling_process),
%% passive sockets ({active,false}) read with gen_tcp:recv.
%%
%% http: {packet,http_bin} (the inet driver's HTTP parser) reads the request
%% line and every header; keep-alive and pipelining (each recv takes the
%% next request from the driver's buffer); the answer is the same bytes the
%% Go and SwarmRT servers send:
%%   HTTP/1.1 200 OK\r\nContent-Length: N\r\nContent-Type: text/plain\r\n\r\nhello, T\n
%%
%% echo: {packet,raw}, recv(S, 0) and send back what arrived.
%%
%% A line "mem" on stdin prints "memory_total=<erlang:memory(total)>" (the
%% memory-per-idle-connection workload reads it before and after).
-module(swarm_io_peer).
-export([main/1]).

main([Kind]) ->
    main([Kind, "0"]);
main([Kind, PortS]) ->
    Serve = case Kind of
                "http" -> fun http_conn/1;
                "echo" -> fun echo_conn/1;
                _ -> usage()
            end,
    Mode = case Kind of "http" -> http_bin; "echo" -> raw end,
    {ok, L} = gen_tcp:listen(list_to_integer(PortS),
                             [binary, {ip, {127, 0, 0, 1}}, {packet, Mode}, {active, false},
                              {reuseaddr, true}, {nodelay, true}, {backlog, 4096}]),
    {ok, Port} = inet:port(L),
    spawn(fun() -> accept_loop(L, Serve) end),
    io:format("listening ~b~n", [Port]),
    control_loop();
main(_) ->
    usage().

usage() ->
    io:format("error usage: swarm_io_peer main http|echo [Port]~n"),
    erlang:halt(2).

%% The first process keeps the listener open and answers "mem" on stdin.
control_loop() ->
    case io:get_line("") of
        eof -> receive after infinity -> ok end;
        {error, _} -> receive after infinity -> ok end;
        Line ->
            case string:trim(Line) of
                "mem" -> io:format("memory_total=~b~n", [erlang:memory(total)]);
                _ -> ok
            end,
            control_loop()
    end.

accept_loop(L, Serve) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive {go, S} -> Serve(S) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! {go, S};
        {error, Why} ->
            io:format(standard_error, "accept: ~p~n", [Why]),
            timer:sleep(10)
    end,
    accept_loop(L, Serve).

%% ---- http

http_conn(S) ->
    case gen_tcp:recv(S, 0) of
        {ok, {http_request, Method, {abs_path, Path}, Vsn}} ->
            http_headers(S, Method, Path, Vsn, Vsn =:= {1, 0});
        {ok, {http_request, _, _, _}} ->
            bad_request(S);
        {ok, {http_error, _}} ->
            bad_request(S);
        {error, _} ->
            gen_tcp:close(S)
    end.

http_headers(S, Method, Path, Vsn, Close) ->
    case gen_tcp:recv(S, 0) of
        {ok, {http_header, _, 'Connection', _, V}} ->
            C = case string:lowercase(V) of
                    <<"close">> -> true;
                    <<"keep-alive">> -> false;
                    _ -> Close
                end,
            http_headers(S, Method, Path, Vsn, C);
        {ok, {http_header, _, _, _, _}} ->
            http_headers(S, Method, Path, Vsn, Close);
        {ok, http_eoh} ->
            respond(S, Method, Path, Close);
        {ok, {http_error, _}} ->
            bad_request(S);
        {error, _} ->
            gen_tcp:close(S)
    end.

respond(S, Method, Path, Close) ->
    Body = [<<"hello, ">>, Path, <<"\n">>],
    Head = [<<"HTTP/1.1 200 OK\r\nContent-Length: ">>, integer_to_binary(iolist_size(Body)),
            <<"\r\nContent-Type: text/plain\r\n">>,
            case Close of true -> <<"Connection: close\r\n">>; false -> <<>> end,
            <<"\r\n">>],
    Out = case Method of 'HEAD' -> Head; _ -> [Head, Body] end,
    case gen_tcp:send(S, Out) of
        ok when not Close -> http_conn(S);
        _ -> gen_tcp:close(S)
    end.

bad_request(S) ->
    gen_tcp:send(S, <<"HTTP/1.1 400 Bad Request\r\nContent-Length: 16\r\n"
                      "Content-Type: text/plain\r\nConnection: close\r\n\r\n400 Bad Request\n">>),
    gen_tcp:close(S).

%% ---- echo

echo_conn(S) ->
    case gen_tcp:recv(S, 0) of
        {ok, Data} ->
            case gen_tcp:send(S, Data) of
                ok -> echo_conn(S);
                _ -> gen_tcp:close(S)
            end;
        {error, _} ->
            gen_tcp:close(S)
    end.
