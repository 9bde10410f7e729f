# Databricks SQL that DuckDB does not parse or names differently: nested
# types in DDL, literal and function forms of arrays, maps and structs,
# SELECT * EXCEPT, function-style casts, Spark datetime patterns and the
# Databricks functions Lakebox defines over DuckDB's.

statement ok
CREATE TABLE s (id INT, name STRING, amt DECIMAL(10,2), ts TIMESTAMP, d DATE, tags ARRAY<STRING>, attrs MAP<STRING, INT>, pt STRUCT<x: INT, y: INT>)

statement ok
INSERT INTO s VALUES (1, 'ann lee', 1.50, TIMESTAMP '2024-01-01 10:00:00', DATE '2024-01-01', ARRAY('x', 'y'), MAP('k', 1), named_struct('x', 1, 'y', 2))

statement ok
INSERT INTO s VALUES (2, 'BOB', 2.25, '2024-01-07 11:30:05', '2024-01-07', ['z'], MAP {'k': 2}, {'x': 3, 'y': 4})

query
SELECT * FROM s ORDER BY id
----
id	name	amt	ts	d	tags	attrs	pt
1	ann lee	1.5	2024-01-01 10:00:00	2024-01-01	[x,y]	{k:1}	{x:1,y:2}
2	BOB	2.25	2024-01-07 11:30:05	2024-01-07	[z]	{k:2}	{x:3,y:4}

query
SELECT * EXCEPT (tags, attrs, pt, ts) FROM s ORDER BY id
----
id	name	amt	d
1	ann lee	1.5	2024-01-01
2	BOB	2.25	2024-01-07

query
SELECT s.* EXCEPT (name, amt, ts, d, tags, attrs) FROM s ORDER BY id
----
id	pt
1	{x:1,y:2}
2	{x:3,y:4}

query
SELECT id, attrs['k'] AS k, pt.y AS y, size(tags) AS n, array_contains(tags, 'x') AS has_x, array_join(tags, '+') AS j, sort_array(tags, false) AS sorted FROM s ORDER BY id
----
id	k	y	n	has_x	j	sorted
1	1	2	2	true	x+y	[y,x]
2	2	4	1	false	z	[z]

query
SELECT struct(id, 'lit') AS st, array(id, 2) AS arr, map('a', id) AS m, named_struct('n', name) AS ns FROM s ORDER BY id
----
st	arr	m	ns
{col2:lit,id:1}	[1,2]	{a:1}	{n:ann lee}
{col2:lit,id:2}	[2,2]	{a:2}	{n:BOB}

query
SELECT string(id) AS s, int('5') AS i, double('1.5') AS f, boolean('true') AS b, date('2024-02-03') AS dt FROM s WHERE id = 1
----
s	i	f	b	dt
1	5	1.5	true	2024-02-03

query
SELECT nvl(NULL, 1) AS a, nvl2(NULL, 'x', 'y') AS b, iff(1 = 1, 'yes', 'no') AS c
----
a	b	c
1	y	yes

query
SELECT id, date_format(ts, 'yyyy-MM-dd HH:mm:ss') AS f, date_format(d, 'dd/MM/yy') AS g, to_date('03.02.2024', 'dd.MM.yyyy') AS h, to_date('2024-02-03') AS i FROM s ORDER BY id
----
id	f	g	h	i
1	2024-01-01 10:00:00	01/01/24	2024-02-03	2024-02-03
2	2024-01-07 11:30:05	07/01/24	2024-02-03	2024-02-03

query
SELECT id, datediff(d, DATE '2023-12-01') AS dd, date_sub(d, 1) AS ds, date_add(d, 1) AS da, add_months(d, 1) AS am, dayofweek(d) AS dow FROM s ORDER BY id
----
id	dd	ds	da	am	dow
1	31	2023-12-31	2024-01-02	2024-02-01	2
2	37	2024-01-06	2024-01-08	2024-02-07	1

query
SELECT datediff('hour', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-01 05:00:00') AS duckdb_form
----
duckdb_form
5

query
SELECT from_unixtime(0) AS a, from_unixtime(86400, 'yyyy/MM/dd') AS b, unix_timestamp('2024-01-01 00:00:00') AS c
----
a	b	c
1970-01-01 00:00:00	1970/01/02	1704067200

query
SELECT collect_list(id) AS l, collect_set(name) AS st, percentile_approx(id, 0.5) AS p FROM (SELECT * FROM s ORDER BY id)
----
l	st	p
[1,2]	[ann lee,BOB]	1

query
SELECT explode(tags) AS t FROM s ORDER BY t
----
t
x
y
z

query
SELECT initcap(name) AS n FROM s ORDER BY id
----
n
Ann Lee
Bob

query
SELECT get_json_object('{"a": {"b": 7}}', '$.a.b') AS v, sha2('abc', 256) AS h
----
v	h
7	ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad

query
SELECT current_catalog() AS c, current_schema() AS s, current_database() AS d
----
c	s	d
main	default	default

statement ok
CREATE SCHEMA other

statement ok
USE SCHEMA other

query
SELECT current_catalog() AS c, current_schema() AS s
----
c	s
main	other

query
SELECT map(['a', 'b'], [1, 2]) AS duck, map(list_value('x'), list_value(9)) AS duck2, map('a', 1, 'b', 2) AS spark, map('c', 3) AS spark2
----
duck	duck2	spark	spark2
{a:1,b:2}	{x:9}	{a:1,b:2}	{c:3}

query
SELECT CAST(1.5 AS DECIMAL(4,1)) AS a, {'x': 1}::STRUCT(x INTEGER) AS b, CAST([1] AS INT[]) AS c, '7'::INT AS d
----
a	b	c	d
1.5	{x:1}	[1]	7
