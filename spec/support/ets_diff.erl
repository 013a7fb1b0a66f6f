#!/usr/bin/env escript
%% ets_diff — the ETS side of spec/ets_diff_spec.lua.
%%
%% escript ets_diff.erl OPS... runs each file of operations (written by the
%% spec, one Erlang term a line: {new, Type, Keypos}, then the operations)
%% on a fresh ETS table and writes OPS.out: one line a result, rendered as
%% the spec renders heirloom's. Objects are tuples of integers, floats,
%% binaries, atoms, lists, maps and tuples of those; heirloom's arrays,
%% strings, hl.atom and hl.list values are the same values. A call that
%% raises renders as "error".
-mode(compile).

main(Files) ->
    lists:foreach(fun run/1, Files).

run(File) ->
    {ok, [{new, Type, Keypos} | Ops]} = file:consult(File),
    T = ets:new(diff, [Type, public, {keypos, Keypos}]),
    Lines = [line(T, Type, Keypos, Op) || Op <- Ops],
    ok = file:write_file(File ++ ".out", [[L, $\n] || L <- Lines]),
    ets:delete(T).

line(T, Type, Keypos, Op) ->
    try
        op(T, Type, Keypos, Op)
    catch
        error:_ -> "error"
    end.

op(T, _, _, {insert, Obj}) -> r(ets:insert(T, Obj));
op(T, _, _, {insert_new, Obj}) -> r(ets:insert_new(T, Obj));
op(T, _, _, {lookup, K}) -> list(ets:lookup(T, K));
op(T, _, _, {take, K}) -> list(ets:take(T, K));
op(T, _, _, {member, K}) -> r(ets:member(T, K));
op(T, Type, _, {lookup_element, K, Pos}) ->
    E = ets:lookup_element(T, K, Pos),
    case bag(Type) of
        true -> list(E);
        false -> r(E)
    end;
op(T, _, _, {delete, K}) -> r(ets:delete(T, K));
op(T, _, _, {delete_object, Obj}) -> r(ets:delete_object(T, Obj));
op(T, _, _, {update_counter, K, Incr}) -> r(ets:update_counter(T, K, Incr));
op(T, _, _, {update_counter, K, Incr, Default}) -> r(ets:update_counter(T, K, Incr, Default));
op(T, _, _, {update_element, K, Change}) -> r(ets:update_element(T, K, Change));
op(T, Type, _, walk) -> keys(Type, walk(T, ets:first(T), fun ets:next/2));
op(T, Type, _, walk_back) -> keys(Type, walk(T, ets:last(T), fun ets:prev/2));
op(T, _, _, first) -> r(ets:first(T));
op(T, _, _, last) -> r(ets:last(T));
op(T, _, _, {next, K}) -> r(ets:next(T, K));
op(T, _, _, {prev, K}) -> r(ets:prev(T, K));
op(T, Type, Keypos, {select, Id, A, B}) ->
    found(Type, ets:select(T, spec(Id, A, B, Keypos, found)));
op(T, Type, Keypos, {select_reverse, Id, A, B}) ->
    found(Type, ets:select_reverse(T, spec(Id, A, B, Keypos, found)));
op(T, Type, Keypos, {select_limit, Id, A, B, Limit}) ->
    found(Type, chunks(ets:select(T, spec(Id, A, B, Keypos, found), Limit)));
op(T, Type, Keypos, {select_reverse_limit, Id, A, B, Limit}) ->
    found(Type, chunks(ets:select_reverse(T, spec(Id, A, B, Keypos, found), Limit)));
op(T, _, Keypos, {select_count, Id, A, B}) ->
    r(ets:select_count(T, spec(Id, A, B, Keypos, true)));
op(T, _, Keypos, {select_delete, Id, A, B}) ->
    r(ets:select_delete(T, spec(Id, A, B, Keypos, true)));
op(T, _, Keypos, {select_replace, A}) ->
    r(ets:select_replace(T, replace_spec(Keypos, A)));
op(T, Type, _, {match_object, Id, A}) -> found(Type, ets:match_object(T, pattern(Id, A)));
op(T, _, _, {match_delete, Id, A}) -> r(ets:match_delete(T, pattern(Id, A)));
op(T, Type, _, tab2list) -> found(Type, ets:tab2list(T));
op(T, Type, _, {select_ms, MS}) -> found(Type, ets:select(T, MS));
op(T, _, _, {select_count_ms, MS}) -> r(ets:select_count(T, MS));
op(T, _, _, size) -> r(ets:info(T, size));
op(T, _, _, delete_all) -> r(ets:delete_all_objects(T)).

bag(Type) -> Type =:= bag orelse Type =:= duplicate_bag.

walk(_, '$end_of_table', _) -> [];
walk(T, K, Step) -> [K | walk(T, Step(T, K), Step)].

chunks('$end_of_table') -> [];
chunks({Found, Cont}) -> Found ++ chunks(ets:select(Cont)).

%% The match specs, by number, as the spec builds them in Lua. `found`
%% asks for each clause's own body; `true` for true instead, which
%% select_count and select_delete count.
spec(1, A, B, _, Body) ->
    [clause({'$1', '$2'}, [{'>=', '$1', {const, A}}, {'=<', '$1', {const, B}}], ['$_'], Body)];
spec(2, _, _, _, Body) ->
    [clause({'$1', '$2', '$3'}, [{is_integer, '$3'}], [{{'$3', '$1'}}], Body)];
spec(3, A, _, _, Body) ->
    [clause({'$1', '_'}, [{is_integer, '$1'}], [{'rem', '$1', 3}], Body),
     clause({'_', '$1'}, [{'==', '$1', {const, A}}], [{{'$1'}}], Body)];
spec(4, _, _, _, Body) ->
    [clause('_', [], ['$_'], Body)];
spec(5, A, _, _, Body) ->
    [clause({'_', '$1', '_'}, [{'<', '$1', {const, A}}], [{{'$1', '$1'}}], Body)].

clause(Head, Guards, Found, found) -> {Head, Guards, Found};
clause(Head, Guards, _, true) -> {Head, Guards, [true]}.

%% Adds A to the element beside the key of 2-tuples whose other element
%% is an integer; the key stays.
replace_spec(1, A) ->
    [{{'$1', '$2'}, [{is_integer, '$2'}], [{{'$1', {'+', '$2', A}}}]}];
replace_spec(2, A) ->
    [{{'$1', '$2'}, [{is_integer, '$1'}], [{{{'+', '$1', A}, '$2'}}]}].

pattern(1, A) -> {'$1', A};
pattern(2, A) -> {'_', '_', A};
pattern(3, A) -> {A, '_'}.

%% ---- rendering: the spec renders heirloom's results the same way ----

r(I) when is_integer(I) -> integer_to_list(I);
r(F) when is_float(F) -> float_to_list(F, [{scientific, 16}]);
r(B) when is_binary(B) -> "\"" ++ binary_to_list(B) ++ "\"";
r(true) -> "true";
r(false) -> "false";
r('$end_of_table') -> "nil";
r(A) when is_atom(A) -> "'" ++ atom_to_list(A) ++ "'";
r(M) when is_map(M) ->
    "#{" ++ string:join(lists:sort([r(K) ++ "=>" ++ r(V) || {K, V} <- maps:to_list(M)]), ",") ++ "}";
r(T) when is_tuple(T) -> "{" ++ string:join([r(E) || E <- tuple_to_list(T)], ",") ++ "}";
r(L) when is_list(L) -> list(L).

list(L) -> "[" ++ string:join([r(E) || E <- L], ",") ++ "]".

%% Results in the table's order: an ordered_set's key order, which both
%% share; the other types' hash order is each engine's own, so sorted.
found(ordered_set, L) -> list(L);
found(_, L) -> "[" ++ string:join(lists:sort([r(E) || E <- L]), ",") ++ "]".

keys(Type, Ks) -> found(Type, Ks).
